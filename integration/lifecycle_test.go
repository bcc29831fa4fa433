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

// The command line as people use it (issue 12): from a directory of
// their own, with relative paths, short waits for owserver, and Ctrl-C
// on a mount that a shell still sits in.

// runIn runs the binary under test with args in the working directory dir.
func runIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(owfuseBin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OWFUSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr owtest.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start owfuse %q: %v", args, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(runTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("owfuse %q did not exit within %v", args, runTimeout)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("owfuse %q: %v", args, err)
	}
	return r
}

// TestLifecycleDaemonRelativePaths: `owfuse mount --daemon SERVER mnt -o
// log_file=log.txt`, and the helper form `owfuse SERVER mnt -o …`, run
// from a directory of the caller's, mount at that directory's mnt and log
// to its log.txt, although the daemon itself runs in /.
//
// The relative names are unique and do not exist in /: before the fix
// the daemon looked for them there, and a common name such as "mnt"
// would have mounted over the system's /mnt.
func TestLifecycleDaemonRelativePaths(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	for _, tt := range []struct {
		name string
		args func(mnt, log string) []string
	}{
		{"mount --daemon", func(mnt, log string) []string {
			return []string{"mount", "--daemon", addr, mnt, "-o", "log_file=" + log}
		}},
		{"mount --daemon --log-file", func(mnt, log string) []string {
			return []string{"mount", "--daemon", "--log-file", log, addr, mnt}
		}},
		{"helper", func(mnt, log string) []string {
			return []string{addr, mnt, "-o", "ro,log_file=" + log}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cwd := t.TempDir()
			tag := fmt.Sprintf("owfuse-lifecycle-%d-%s", os.Getpid(), strings.NewReplacer(" ", "", "-", "").Replace(tt.name))
			name, logName := tag+"-mnt", tag+".log"
			mnt, logFile := filepath.Join(cwd, name), filepath.Join(cwd, logName)
			if err := os.Mkdir(mnt, 0o755); err != nil {
				t.Fatal(err)
			}
			// Cleanups run last first: the daemon (whose command line
			// holds the relative name) is stopped before the mounts are
			// checked.
			t.Cleanup(func() {
				misplaced := "/" + logName
				if _, err := os.Lstat(misplaced); err == nil {
					t.Errorf("the daemon logged to %s, not to %s", misplaced, logFile)
					os.Remove(misplaced)
				} else if !errors.Is(err, fs.ErrNotExist) {
					t.Error(err)
				}
			})
			daemonCleanup(t, "/"+name)
			daemonCleanup(t, mnt)
			daemonCleanup(t, name)
			mntBefore := len(mounts(t, "/mnt"))

			r := runIn(t, cwd, tt.args(name, logName)...)
			if r.code != exitOK || r.stdout != "" || r.stderr != "" {
				b, _ := os.ReadFile(logFile)
				t.Fatalf("owfuse %q in %s: exit %d, stdout %q, stderr %q; want 0 and nothing printed; log:\n%s", tt.args(name, logName), cwd, r.code, r.stdout, r.stderr, b)
			}
			if ms := mounts(t, mnt); len(ms) != 1 || ms[0].fstype != "fuse.owfuse" || ms[0].source != addr {
				t.Errorf("mountinfo for %s: %+v, want one fuse.owfuse mount of %s", mnt, ms, addr)
			}
			if ms := mounts(t, "/"+name); len(ms) != 0 {
				t.Errorf("mounted at /%s: %+v", name, ms)
			}
			if n := len(mounts(t, "/mnt")); n != mntBefore {
				t.Errorf("%d mounts at /mnt, were %d", n, mntBefore)
			}
			helperWantServes(t, mnt)
			daemonLogWait(t, logFile, "msg=mounted server="+addr+" mountpoint="+mnt)

			pid := daemonPid(t, name)
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if !daemonWaitGone(pid, stopDeadline) {
				t.Errorf("daemon %d still runs %v after SIGTERM", pid, stopDeadline)
			}
			if !waitUnmounted(t, mnt, unmountDeadline) {
				t.Errorf("%s still mounted after the daemon exited", mnt)
			}
			daemonLogWait(t, logFile, "msg=unmounted mountpoint="+mnt+" signal=terminated")
		})
	}
}

// TestLifecycleWaitServer: -o wait_server=D waits all of D for an owserver
// that refuses connections (nothing listens), not the 1.5 s of 2 s or the
// 3.1 s of 5 s that the backoff reached before giving up.
func TestLifecycleWaitServer(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := silentAddr(t)
	for _, wait := range []time.Duration{2 * time.Second, 5 * time.Second} {
		t.Run(wait.String(), func(t *testing.T) {
			t.Parallel()
			mnt := t.TempDir()
			r := owfuse(t, "mount", "-o", "wait_server="+wait.String(), addr, mnt)
			if r.code != exitUnreachable || !strings.Contains(r.stderr, "owfuse: cannot reach owserver at "+addr) {
				t.Errorf("exit %d, stderr %q; want %d and cannot reach owserver", r.code, r.stderr, exitUnreachable)
			}
			// Each try is refused at once: the per-try timeout plays no part.
			if r.elapsed < wait || r.elapsed > wait+quickly {
				t.Errorf("gave up after %v, want %v to %v", r.elapsed, wait, wait+quickly)
			}
			t.Logf("wait_server=%v: gave up after %v", wait, r.elapsed)
			helperWantNothingMounted(t, mnt)
		})
	}
}

// TestLifecycleInterruptBusy: Ctrl-C on `owfuse mount` while a shell has
// its working directory in the mount detaches the mount lazily, says so
// at once, and exits promptly; the shell can still be ended, and no mount
// is left.
func TestLifecycleInterruptBusy(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	dir := t.TempDir()
	m := startMount(t, addr, dir)

	sh := exec.Command("sh", "-c", `cd "$1" && exec sleep 30`, "sh", dir)
	sh.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	shExited := make(chan struct{})
	go func() { sh.Wait(); close(shExited) }()
	t.Cleanup(func() { sh.Process.Kill(); <-shExited })
	cwdLink := "/proc/" + strconv.Itoa(sh.Process.Pid) + "/cwd"
	deadline := time.Now().Add(mountDeadline)
	for {
		if cwd, _ := os.Readlink(cwdLink); cwd == dir {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shell did not enter %s within %v", dir, mountDeadline)
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}

	// Before, the process lived ~5 s after the detach; now ~10 ms. 2 s
	// tells the two apart on a loaded machine too.
	lifecycleTimedExit(t, m, syscall.SIGINT, 2*time.Second, "on a busy mount")
	if !strings.Contains(m.stderr.String(), "detached it lazily") {
		t.Errorf("stderr does not say the mount was detached lazily:\n%s", m.stderr.String())
	}
	m.stop(t, syscall.SIGINT) // exit code 0, and the mount gone from mountinfo

	if err := sh.Process.Kill(); err != nil {
		t.Errorf("kill the shell: %v", err)
	}
	select {
	case <-shExited:
	case <-time.After(stopDeadline):
		t.Errorf("the shell in the detached mount did not end within %v of SIGKILL", stopDeadline)
	}
}

// TestLifecycleStopWithMountCopy: SIGTERM stops owfuse promptly although a
// copy of its mount lives on in another mount namespace (unshare -m, a
// systemd service's PrivateTmp), which keeps the kernel's connection up
// after the unmount here; owfuse used to wait for that namespace to end.
func TestLifecycleStopWithMountCopy(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	owtest.Require(t, "unshare")
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	dir := t.TempDir()
	m := startMount(t, addr, dir)

	holder := exec.Command("unshare", "-m", "--propagation", "private", "sleep", "30")
	holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	go func() { holder.Wait(); close(held) }()
	t.Cleanup(func() { holder.Process.Kill(); <-held })
	own, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	nsLink := "/proc/" + strconv.Itoa(holder.Process.Pid) + "/ns/mnt"
	deadline := time.Now().Add(mountDeadline)
	for {
		if ns, _ := os.Readlink(nsLink); ns != "" && ns != own {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unshare made no mount namespace within %v", mountDeadline)
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}

	lifecycleTimedExit(t, m, syscall.SIGTERM, 2*time.Second, "with a copy of its mount elsewhere")
	if !strings.Contains(m.stderr.String(), "another mount namespace") {
		t.Errorf("stderr does not mention the copy in another mount namespace:\n%s", m.stderr.String())
	}
	m.stop(t, syscall.SIGTERM) // exit code 0, and the mount gone from mountinfo
}

// lifecycleTimedExit sends sig to owfuse and fails t unless it exits
// within limit; what says in which situation.
func lifecycleTimedExit(t *testing.T, m *mountProc, sig syscall.Signal, limit time.Duration, what string) {
	t.Helper()
	signaled := time.Now()
	m.signal(t, sig)
	select {
	case <-m.exited:
	case <-time.After(stopDeadline):
	}
	exited := time.Since(signaled)
	t.Logf("owfuse exited %v after %v", exited, sig)
	if exited > limit {
		t.Errorf("owfuse exited %v after %v %s, want within %v", exited, sig, what, limit)
	}
}
