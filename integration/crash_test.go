package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// crashRemountLimit is how soon after owfuse was killed a new mount on
// the same directory must serve: systemd's Restart=on-failure restarts
// after 100 ms and gives up after 5 failed starts in 10 s.
const crashRemountLimit = time.Second

// crashKill kills owfuse with SIGKILL, as a crash or the OOM killer would,
// and waits until it is reaped: its /dev/fuse is closed then, and the
// mount it leaves is dead.
func crashKill(t *testing.T, m *mountProc) {
	t.Helper()
	m.stopped = true // stop has nothing to do: the dead mount is the test's
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill owfuse: %v", err)
	}
	// Should the test fail before a new mount clears the dead one, the
	// dead one must not outlive it (nor make t.TempDir's removal fail).
	t.Cleanup(func() {
		if isMounted(t, m.dir) {
			exec.Command("umount", "-l", m.dir).Run()
		}
	})
	select {
	case <-m.exited:
	case <-time.After(stopDeadline):
		t.Fatalf("owfuse still runs %v after SIGKILL", stopDeadline)
	}
}

// crashHoldCwd starts a process whose working directory is dir, as a
// shell cd'ed into the mount would be, and kills it when the test ends.
func crashHoldCwd(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a process in %s: %v", dir, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", cmd.Process.Pid)); err != nil || cwd != dir {
		t.Fatalf("the process meant to hold %s has cwd %q (%v)", dir, cwd, err)
	}
}

// crashRemount mounts again at dir, where a killed owfuse left its dead
// mount, and checks that the new mount serves at once, alone, and says
// in its log that it cleared the old one. It returns how long the mount
// took.
func crashRemount(t *testing.T, addr, dir string) (*mountProc, time.Duration) {
	t.Helper()
	start := time.Now()
	m := startMount(t, addr, dir)
	took := time.Since(start)
	if took > crashRemountLimit {
		t.Errorf("mounting over the dead mount took %v, want under %v", took, crashRemountLimit)
	}
	if got := mustRun(t, "cat", filepath.Join(dir, tester10, "type")); got != "DS18S20\n" {
		t.Errorf("cat %s/type on the new mount: %q, want DS18S20", tester10, got)
	}
	if ms := mounts(t, dir); len(ms) != 1 {
		t.Errorf("%d mounts at %s, want the new one only: %+v", len(ms), dir, ms)
	}
	if log := m.stderr.String(); !strings.Contains(log, "clearing a stale mount") || !strings.Contains(log, dir) {
		t.Errorf("the new owfuse did not log that it cleared the stale mount at %s:\n%s", dir, log)
	}
	return m, took
}

// crashWantDeadButCached checks the state that made the next mount fail
// before: the killed owfuse's mount is still in mountinfo, and stat(2)
// of the mountpoint still succeeds from the kernel's cached attributes,
// although the connection is gone.
func crashWantDeadButCached(t *testing.T, dir string) {
	t.Helper()
	if !isMounted(t, dir) {
		t.Fatalf("%s is not mounted after SIGKILL: nothing stale to clear", dir)
	}
	if _, err := os.Stat(dir); err != nil {
		// The kernel did not keep the attributes: the case under test
		// (a dead mount that stat calls alive) did not arise.
		t.Fatalf("stat %s right after SIGKILL: %v; want the cached attributes (dir_ttl 10s)", dir, err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); !errors.Is(err, syscall.ENOTCONN) {
		t.Errorf("statfs %s after SIGKILL: %v, want ENOTCONN", dir, err)
	}
}

// TestCrashRemountAfterStat: a mountpoint stat'ed (its attributes cached
// by the kernel for dir_ttl) before owfuse is killed with SIGKILL, and
// one in which a process holds its working directory, are cleared by the
// next mount within a second, which then serves. Before, the next mount
// failed with "already mounted" for dir_ttl (10 s by default).
func TestCrashRemountAfterStat(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	for _, holdCwd := range []bool{false, true} {
		t.Run(map[bool]string{false: "stat", true: "stat_and_cwd"}[holdCwd], func(t *testing.T) {
			dir := t.TempDir()
			m := startMount(t, addr, dir, "-o", "dir_ttl=30s")
			// ls first: a listing drops the cached atime, so that the
			// next stat asks owfuse again and caches all.
			mustRun(t, "ls", dir)
			if _, err := os.Stat(dir); err != nil {
				t.Fatal(err)
			}
			if holdCwd {
				crashHoldCwd(t, dir)
			}
			crashKill(t, m)
			crashWantDeadButCached(t, dir)
			_, took := crashRemount(t, addr, dir)
			relFigure(t, fmt.Sprintf("crash_remount_after_stat_cwd_held_%v", holdCwd), relMs(took)+" (dir_ttl=30s)")
		})
	}
}

// TestCrashRestartLoop stands in for systemd's Restart=on-failure (the
// README's unit) where systemd is not running: owfuse is killed with
// SIGKILL five times, each time just after a stat and a read of the
// mount, and restarted at once on the same mountpoint; every restart
// must serve within a second. systemd gives up after 5 failed starts in
// 10 s, which the old check (trusting stat) used up.
func TestCrashRestartLoop(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	dir := t.TempDir()
	m := startMount(t, addr, dir)
	var slowest time.Duration
	const restarts = 5
	for i := range restarts {
		if _, err := os.Stat(dir); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "cat", filepath.Join(dir, tester28, "temperature"))
		crashKill(t, m)
		crashWantDeadButCached(t, dir)
		var took time.Duration
		m, took = crashRemount(t, addr, dir)
		slowest = max(slowest, took)
		if t.Failed() {
			t.Fatalf("restart %d failed", i+1)
		}
	}
	relFigure(t, "crash_restart_loop_slowest_remount", fmt.Sprintf("%s (%d kills)", relMs(slowest), restarts))
}
