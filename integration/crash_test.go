package integration

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// crashRemountLimit is how soon after owfuse was killed a new mount on
// the same directory must serve: systemd's Restart=on-failure restarts
// after 100 ms and gives up after 5 failed starts in 10 s, so each start
// has 2 s. It takes ~0.1 s on an idle machine; the bound is what matters
// to systemd, not a speed target, and holds on a loaded one.
var crashRemountLimit = daemonBound(2 * time.Second)

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
// next mount within crashRemountLimit, which then serves. Before, the next mount
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
// must serve within crashRemountLimit. systemd gives up after 5 failed starts in
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

// crashReader is one cat of a file through the mount.
type crashReader struct {
	cmd            *exec.Cmd
	stdout, stderr *owtest.Buffer
	exited         chan struct{}
}

func crashStartReader(t *testing.T, file string) *crashReader {
	t.Helper()
	r := &crashReader{stdout: &owtest.Buffer{}, stderr: &owtest.Buffer{}, exited: make(chan struct{})}
	r.cmd = exec.Command("cat", file)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			r.cmd.Process.Kill()
			<-r.exited
		}
	})
	return r
}

// waitsForFUSE reports whether the process is asleep waiting for a FUSE
// reply (the kernel's request_wait_answer).
func (r *crashReader) waitsForFUSE() bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(r.cmd.Process.Pid) + "/wchan")
	return err == nil && strings.Contains(string(b), "request_wait_answer")
}

// crashFiles returns up to n files below the given directories of the
// mount, walking them (so that the kernel knows their names before
// owserver stops).
func crashFiles(t *testing.T, n int, dirs ...string) []string {
	t.Helper()
	var files []string
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.Type().IsRegular() && len(files) < n {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < n {
		t.Fatalf("found %d files below %q, want %d", len(files), dirs, n)
	}
	return files
}

// TestCrashSIGTERMBlockedReaders: 50 cat processes wait for values from
// an owserver that is frozen (SIGSTOP); SIGTERM to owfuse must end every
// one of them with an error (EIO) and owfuse itself within 3 s (0.3 s when idle), and
// leave nothing mounted; also when a process's working directory in the
// mount makes the unmount lazy. Before, owfuse waited for its requests
// to time out (or 5 s after a lazy unmount), and exited after 5-7 s.
func TestCrashSIGTERMBlockedReaders(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	for _, holdCwd := range []bool{false, true} {
		t.Run(map[bool]string{false: "readers", true: "readers_and_cwd"}[holdCwd], func(t *testing.T) {
			t.Parallel()
			crashSIGTERMBlockedReaders(t, holdCwd)
		})
	}
}

func crashSIGTERMBlockedReaders(t *testing.T, holdCwd bool) {
	const readers = 50
	// The promise is "not the request timeout (10 s), not 5 s after a lazy
	// unmount": ~0.3 s idle; 3 s leaves room for a loaded machine.
	limit := daemonBound(3 * time.Second)
	srv := owtest.StartOwserver(t, "--tester", "10,28")
	dir := t.TempDir()
	m := startMount(t, srv.Addr, dir)
	// Values never read before: every cat asks owserver, under uncached/
	// and through the cache alike.
	files := crashFiles(t, readers,
		filepath.Join(dir, "uncached", tester10), filepath.Join(dir, "uncached", tester28),
		filepath.Join(dir, tester10), filepath.Join(dir, tester28))

	if holdCwd {
		crashHoldCwd(t, dir)
	}
	if err := srv.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Registered after startMount's: runs before it, so that a failing
	// test does not leave owfuse's last requests to a frozen server.
	t.Cleanup(func() { srv.Cmd.Process.Signal(syscall.SIGCONT) })

	var rs []*crashReader
	for _, f := range files {
		rs = append(rs, crashStartReader(t, f))
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		blocked := 0
		for _, r := range rs {
			select {
			case <-r.exited:
				t.Fatalf("%q ended before SIGTERM: stdout %q, stderr %q", r.cmd.Args, r.stdout.String(), r.stderr.String())
			default:
			}
			if r.waitsForFUSE() {
				blocked++
			}
		}
		if blocked == len(rs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d readers wait for owfuse after 5s", blocked, len(rs))
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}

	signaled := time.Now()
	m.signal(t, syscall.SIGTERM)
	var exited time.Duration
	select {
	case <-m.exited:
		exited = time.Since(signaled)
	case <-time.After(stopDeadline):
	}
	relFigure(t, "sigterm_blocked_readers_owfuse_exit_after_cwd_held_"+strconv.FormatBool(holdCwd), relMs(time.Since(signaled))+fmt.Sprintf(" (%d readers, owserver stopped)", readers))
	if exited == 0 || exited > limit {
		t.Errorf("owfuse exited %v after SIGTERM (0: not within %v), want within %v", exited, stopDeadline, limit)
	}
	var slowest time.Duration
	errnos := map[string]int{}
	for _, r := range rs {
		select {
		case <-r.exited:
		case <-time.After(time.Until(signaled.Add(stopDeadline))):
			t.Fatalf("%q still waits %v after SIGTERM", r.cmd.Args, time.Since(signaled))
		}
		slowest = max(slowest, time.Since(signaled))
		msg := r.stderr.String()
		if r.cmd.ProcessState.ExitCode() == 0 || msg == "" {
			t.Errorf("%q ended with exit %d, stdout %q, stderr %q; want an error", r.cmd.Args, r.cmd.ProcessState.ExitCode(), r.stdout.String(), msg)
		}
		errnos[msg[strings.LastIndex(msg, ": ")+2:len(msg)-1]]++
	}
	relFigure(t, "sigterm_blocked_readers_all_failed_within", relMs(slowest)+fmt.Sprintf(" (%v)", errnos))
	if slowest > limit {
		t.Errorf("the last reader ended %v after SIGTERM, want within %v", slowest, limit)
	}
	m.stop(t, syscall.SIGTERM) // exit code 0, and the mount gone
	lazily := strings.Contains(m.stderr.String(), "detached it lazily")
	relFigure(t, "sigterm_blocked_readers_unmount_cwd_held_"+strconv.FormatBool(holdCwd), map[bool]string{false: "plain", true: "lazy"}[lazily])
	if lazily != holdCwd {
		t.Errorf("unmount lazy: %v, want %v (only a process's cwd keeps the mount busy)", lazily, holdCwd)
	}
}
