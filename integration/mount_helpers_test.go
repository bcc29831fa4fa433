package integration

import (
	"errors"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// Limits of a mount's life in the tests. None is a synchronisation delay:
// every wait polls a condition and gives up at its deadline.
const (
	mountDeadline   = 10 * time.Second // for the mount to appear once started
	stopDeadline    = 15 * time.Second // for owfuse to exit after a signal
	unmountDeadline = 2 * time.Second  // for the mount to leave mountinfo after owfuse exited
	pollInterval    = 5 * time.Millisecond
)

// mountProc is one `owfuse mount` process.
type mountProc struct {
	dir    string
	cmd    *exec.Cmd
	stderr *owtest.Buffer
	exited chan struct{} // closed once cmd.Wait returned; waitErr is set then

	waitErr  error
	signaled bool // a signal was sent; only the test's goroutine touches it
	stopped  bool // stop was called; likewise
}

// requireFUSE skips the test (or fails it under CI=true) when this process
// cannot mount: no /dev/fuse, or neither root nor fusermount3.
func requireFUSE(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := os.Stat("/dev/fuse"); err != nil {
		missing = "/dev/fuse"
	} else if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			missing = "fusermount3 (not root)"
		}
	}
	if missing == "" {
		return
	}
	if owtest.InCI() {
		t.Fatalf("cannot mount: %s is missing (CI=true: a missing tool fails the run)", missing)
	}
	t.Skipf("cannot mount: %s is missing", missing)
}

// startOwfuse starts `owfuse mount args...` in the background, with the
// environment run gives programs. It does not wait for anything.
func startOwfuse(t *testing.T, args ...string) *mountProc {
	t.Helper()
	m := &mountProc{stderr: &owtest.Buffer{}, exited: make(chan struct{})}
	m.cmd = exec.Command(owfuseBin, append([]string{"mount"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OWFUSE_") {
			m.cmd.Env = append(m.cmd.Env, kv)
		}
	}
	m.cmd.Stdout = m.stderr // owfuse mount prints nothing on stdout; keep it if it does
	m.cmd.Stderr = m.stderr
	// Should the test binary die, owfuse unmounts on SIGTERM.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("start owfuse mount: %v", err)
	}
	go func() { m.waitErr = m.cmd.Wait(); close(m.exited) }()
	return m
}

// code returns the exit code of an exited process (-1 for a signal).
func (m *mountProc) code() int {
	<-m.exited
	var ee *exec.ExitError
	if errors.As(m.waitErr, &ee) {
		return ee.ExitCode()
	}
	if m.waitErr != nil {
		return -1
	}
	return 0
}

// waitExit waits up to limit for the process to exit on its own and
// returns how it ended. If it does not, it is stopped and t fails.
func (m *mountProc) waitExit(t *testing.T, limit time.Duration) result {
	t.Helper()
	start := time.Now()
	select {
	case <-m.exited:
	case <-time.After(limit):
		if m.dir != "" && isMounted(t, m.dir) {
			t.Errorf("owfuse mount %q mounted instead of failing", m.cmd.Args[2:])
			m.stop(t, syscall.SIGTERM)
		} else {
			m.cmd.Process.Kill()
			<-m.exited
			t.Errorf("owfuse mount %q did not exit within %v; stderr %q", m.cmd.Args[2:], limit, m.stderr.String())
		}
	}
	m.stopped = true
	return result{stderr: m.stderr.String(), code: m.code(), elapsed: time.Since(start)}
}

// startMount mounts server at dir with `owfuse mount SERVER DIR args...`
// and returns once the mount is in /proc/self/mountinfo and owfuse has
// said it serves it; it fails t if owfuse exits first. When the test ends
// the mount is stopped with SIGTERM, unless the test stopped it already.
func startMount(t *testing.T, server, dir string, args ...string) *mountProc {
	t.Helper()
	requireFUSE(t)
	m := startOwfuse(t, append([]string{server, dir}, args...)...)
	m.dir = dir
	t.Cleanup(func() { m.stop(t, syscall.SIGTERM) })
	deadline := time.Now().Add(mountDeadline)
	for !isMounted(t, dir) || !strings.Contains(m.stderr.String(), "owfuse: serving owserver ") {
		select {
		case <-m.exited:
			m.stopped = true
			t.Fatalf("owfuse mount %s %s %q exited with code %d before mounting; stderr:\n%s", server, dir, args, m.code(), m.stderr.String())
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			t.Fatalf("owfuse mount %s %s %q: no mount within %v; stderr:\n%s", server, dir, args, mountDeadline, m.stderr.String())
		}
	}
	return m
}

// mountOrFatal mounts server at a new temporary directory and returns it;
// see startMount.
func mountOrFatal(t *testing.T, server string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	startMount(t, server, dir, args...)
	return dir
}

// stop sends sig, waits for owfuse to exit with code 0 and checks that the
// mount is gone; a mount left behind is detached with umount -l and fails
// t. It does nothing the second time.
func (m *mountProc) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if m.stopped {
		return
	}
	m.stopped = true
	select {
	case <-m.exited:
		if !m.signaled {
			t.Errorf("owfuse mount exited (code %d) before it was told to stop; stderr:\n%s", m.code(), m.stderr.String())
		} else if code := m.code(); code != 0 {
			t.Errorf("owfuse mount exited with code %d after %v, want 0; stderr:\n%s", code, sig, m.stderr.String())
		}
	default:
		if !m.signaled {
			m.signal(t, sig)
		}
		select {
		case <-m.exited:
			if code := m.code(); code != 0 {
				t.Errorf("owfuse mount exited with code %d after %v, want 0; stderr:\n%s", code, sig, m.stderr.String())
			}
		case <-time.After(stopDeadline):
			m.cmd.Process.Kill()
			<-m.exited
			t.Errorf("owfuse mount did not exit within %v of %v; stderr:\n%s", stopDeadline, sig, m.stderr.String())
		}
	}
	if m.dir == "" {
		return
	}
	if !waitUnmounted(t, m.dir, unmountDeadline) {
		out, err := exec.Command("umount", "-l", m.dir).CombinedOutput()
		t.Errorf("%s is still mounted after owfuse exited; umount -l: %v %s", m.dir, err, out)
	}
}

// signal sends sig to owfuse.
func (m *mountProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	m.signaled = true
	if err := m.cmd.Process.Signal(sig); err != nil {
		t.Errorf("signal owfuse: %v", err)
	}
}

// waitUnmounted polls mountinfo until dir is not in it, for up to limit.
func waitUnmounted(t *testing.T, dir string, limit time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(limit)
	for isMounted(t, dir) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}
	return true
}

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	dir, fstype, source, options string
}

// mounts returns the entries of /proc/self/mountinfo for dir, newest last.
func mounts(t *testing.T, dir string) []mountEntry {
	t.Helper()
	ms, err := mountlib.Mounts(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]mountEntry, len(ms))
	for i, e := range ms {
		out[i] = mountEntry{dir: dir, fstype: e.FSType, source: e.Source, options: strings.Join(e.Options, ",")}
	}
	return out
}

func isMounted(t *testing.T, dir string) bool { return len(mounts(t, dir)) > 0 }

// owdirEntries lists path with `owdir --dir`: each name, and whether it
// is a directory.
func owdirEntries(t *testing.T, addr, dir string) map[string]bool {
	t.Helper()
	r := run(t, nil, "owdir", "-s", addr, "--dir", dir)
	if r.code != 0 || r.stdout == "" {
		t.Fatalf("owdir --dir %s: exit %d, stdout %q, stderr %q", dir, r.code, r.stdout, r.stderr)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		out[path.Base(strings.TrimSuffix(line, "/"))] = strings.HasSuffix(line, "/")
	}
	return out
}

// owdirTree returns every file below dir, as owdir lists them, relative
// to dir ("errata/die").
func owdirTree(t *testing.T, addr, dir string) []string {
	t.Helper()
	var files []string
	for name, isDir := range owdirEntries(t, addr, dir) {
		if isDir {
			for _, f := range owdirTree(t, addr, dir+"/"+name) {
				files = append(files, name+"/"+f)
			}
		} else {
			files = append(files, name)
		}
	}
	sort.Strings(files)
	return files
}

// owreadRaw returns owread's exact bytes for path.
func owreadRaw(t *testing.T, addr, p string) string {
	t.Helper()
	r := run(t, nil, "owread", "-s", addr, p)
	if r.code != 0 {
		t.Fatalf("owread %s exited %d: %s", p, r.code, r.stderr)
	}
	return r.stdout
}

// mustRun runs a program that must succeed and returns its stdout.
func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	r := run(t, nil, name, args...)
	if r.code != 0 {
		t.Fatalf("%s %q exited %d; stderr %q", name, args, r.code, r.stderr)
	}
	return r.stdout
}

// wantRefused fails t unless r failed and its stderr says why.
func wantRefused(t *testing.T, what string, r result, text string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("%s succeeded, want it refused (%s)", what, text)
	} else if !strings.Contains(r.stderr, text) {
		t.Errorf("%s: stderr %q, want it to contain %q", what, r.stderr, text)
	}
}

// lines splits a program's output into its lines.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// startMountTester starts `owserver --tester 10,28,26` (see startTester)
// and mounts it with args; it returns the server's address and the
// mountpoint.
func startMountTester(t *testing.T, args ...string) (addr, mnt string) {
	t.Helper()
	requireFUSE(t)
	addr = startTester(t)
	return addr, mountOrFatal(t, addr, args...)
}
