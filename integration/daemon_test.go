package integration

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// A detached owfuse (owfuse mount --daemon, or a mount helper) is no child
// of the test: it is found in /proc by its executable and its mountpoint,
// and its end is seen there too. Once it exits, its new parent (init) reaps
// it; an init that does not reap leaves a zombie, which counts as gone.

// daemonPids returns the live owfuse processes (the binary under test)
// whose command line names dir.
func daemonPids(t *testing.T, dir string) []int {
	t.Helper()
	exe, err := filepath.EvalSymlinks(owfuseBin)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p := filepath.Join("/proc", e.Name())
		if target, err := os.Readlink(filepath.Join(p, "exe")); err != nil || target != exe {
			continue // gone, a zombie (no exe), or another program
		}
		cmdline, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil {
			continue
		}
		if slices.Contains(strings.Split(string(bytes.TrimSuffix(cmdline, []byte{0})), "\x00"), dir) && !daemonGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// daemonPid returns the one owfuse that serves dir.
func daemonPid(t *testing.T, dir string) int {
	t.Helper()
	pids := daemonPids(t, dir)
	if len(pids) != 1 {
		t.Fatalf("%d owfuse processes serve %s, want 1: %v", len(pids), dir, pids)
	}
	return pids[0]
}

// daemonGone reports whether pid has exited: it is not in /proc, or is a
// zombie whose other threads are gone too. The main thread of a Go
// program may turn zombie while its other threads still exit and hold
// the process's files (/dev/fuse among them): only once the last one is
// gone has the kernel ended the FUSE connection.
func daemonGone(pid int) bool {
	p := "/proc/" + strconv.Itoa(pid)
	b, err := os.ReadFile(p + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) STATE …; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	if state := b[i+2]; state != 'Z' && state != 'X' {
		return false
	}
	tasks, err := os.ReadDir(p + "/task")
	return err != nil || len(tasks) <= 1
}

// daemonWaitGone polls until pid has exited, for up to limit.
func daemonWaitGone(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for !daemonGone(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}
	return true
}

// daemonCleanup makes sure that, when t ends, no owfuse serves dir and
// nothing is mounted there: one still running gets SIGTERM (a test may
// leave its daemon to this), and must then exit and take its mount with
// it; otherwise it gets SIGKILL, a mount left behind is detached with
// umount -l, and t fails.
func daemonCleanup(t *testing.T, dir string) {
	t.Helper()
	t.Cleanup(func() {
		pids := daemonStop(t, dir)
		if !waitUnmounted(t, dir, unmountDeadline) {
			ms := mounts(t, dir)
			out, err := exec.Command("umount", "-l", dir).CombinedOutput()
			t.Errorf("%s was still mounted when the test ended (%+v; owfuse %v stopped); umount -l: %v %s", dir, ms, pids, err, out)
		}
	})
}

// daemonStop sends SIGTERM to every owfuse serving dir and fails t for
// each that does not exit within stopDeadline (it then gets SIGKILL). It
// returns their pids.
func daemonStop(t *testing.T, dir string) []int {
	t.Helper()
	pids := daemonPids(t, dir)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGTERM)
		if !daemonWaitGone(pid, stopDeadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("owfuse (pid %d) serving %s did not exit within %v of SIGTERM", pid, dir, stopDeadline)
			daemonWaitGone(pid, stopDeadline)
		}
	}
	return pids
}

// daemonMount runs `owfuse mount --daemon SERVER DIR args...` and returns
// how it ended (DIR comes from helperMountDir, whose cleanup stops the
// daemon).
func daemonMount(t *testing.T, server, dir string, args ...string) result {
	t.Helper()
	return owfuse(t, append([]string{"mount", "--daemon", server, dir}, args...)...)
}

// daemonLogWait polls the log file until it holds text, for up to
// mountDeadline, and returns it.
func daemonLogWait(t *testing.T, logFile, text string) string {
	t.Helper()
	deadline := time.Now().Add(mountDeadline)
	for {
		b, err := os.ReadFile(logFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if strings.Contains(string(b), text) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %s: no %q within %v; it holds:\n%s", logFile, text, mountDeadline, b)
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}
}

// TestDaemonMount: owfuse mount --daemon returns 0 once the mount answers
// (ls works at once, without waiting), logs "mounted" to -o log_file, and
// serves from a detached process that SIGHUP does not stop and SIGTERM
// unmounts.
func TestDaemonMount(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	mnt := helperMountDir(t)
	logFile := filepath.Join(t.TempDir(), "owfuse.log")
	r := daemonMount(t, addr, mnt, "-o", "log_file="+logFile)
	if r.code != exitOK || r.stdout != "" || r.stderr != "" {
		t.Fatalf("owfuse mount --daemon: exit %d, stdout %q, stderr %q; want 0 and nothing printed", r.code, r.stdout, r.stderr)
	}
	helperWantServes(t, mnt) // right away: no polling between the return and this
	pid := daemonPid(t, mnt)
	if ms := mounts(t, mnt); len(ms) != 1 || ms[0].fstype != "fuse.owfuse" || ms[0].source != addr {
		t.Errorf("mountinfo for %s: %+v, want one fuse.owfuse mount of %s", mnt, ms, addr)
	}
	daemonLogWait(t, logFile, "msg=mounted server="+addr)
	// Detached: a session of its own, in /.
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("daemon %d: session %d (%v), want its own", pid, sid, err)
	}
	if cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); err != nil || cwd != "/" {
		t.Errorf("daemon %d: cwd %q (%v), want /", pid, cwd, err)
	}

	temp := filepath.Join(mnt, tester10, "temperature")
	before := mustRun(t, "cat", temp)
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	daemonLogWait(t, logFile, "SIGHUP: caches dropped")
	if daemonGone(pid) {
		t.Fatalf("daemon %d exited on SIGHUP", pid)
	}
	if got := mustRun(t, "cat", temp); got != before {
		t.Errorf("cat %s after SIGHUP: got %q, want %q", temp, got, before)
	}
	helperWantServes(t, mnt)

	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !waitUnmounted(t, mnt, stopDeadline) {
		t.Errorf("%s still mounted %v after SIGTERM", mnt, stopDeadline)
	}
	if !daemonWaitGone(pid, stopDeadline) {
		t.Errorf("daemon %d still runs %v after SIGTERM", pid, stopDeadline)
	}
	daemonLogWait(t, logFile, "msg=unmounted mountpoint="+mnt+" signal=terminated")
}

// TestDaemonUnreachable: with nothing listening at the address, owfuse
// mount --daemon fails at once with one line and exit code 69, and leaves
// no mount and no process.
func TestDaemonUnreachable(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	port, err := owtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	mnt := helperMountDir(t)
	r := daemonMount(t, addr, mnt)
	wantFailure(t, r, exitUnreachable, "cannot reach owserver at "+addr)
	if r.elapsed > quickly {
		t.Errorf("took %v, want under %v", r.elapsed, quickly)
	}
	helperWantNothingMounted(t, mnt)
}

// TestDaemonStaleMount: a daemon killed with SIGKILL leaves a dead mount
// ("Transport endpoint is not connected"); the next mount on the same
// directory clears it, says so in its log, and serves.
func TestDaemonStaleMount(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	mnt := helperMountDir(t)
	if r := daemonMount(t, addr, mnt); r.code != exitOK {
		t.Fatalf("owfuse mount --daemon: exit %d, stderr %q", r.code, r.stderr)
	}
	helperWantServes(t, mnt)
	pid := daemonPid(t, mnt)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !daemonWaitGone(pid, stopDeadline) {
		t.Fatalf("daemon %d still runs after SIGKILL", pid)
	}
	if !isMounted(t, mnt) {
		t.Fatalf("%s is not mounted after SIGKILL: nothing stale to clear", mnt)
	}
	if _, err := os.Stat(mnt); !errors.Is(err, syscall.ENOTCONN) {
		t.Errorf("stat %s after SIGKILL: %v, want ENOTCONN", mnt, err)
	}
	if r := run(t, nil, "stat", mnt); !strings.Contains(r.stderr, "Transport endpoint is not connected") {
		t.Errorf("stat(1) %s: exit %d, stderr %q; want Transport endpoint is not connected", mnt, r.code, r.stderr)
	}

	logFile := filepath.Join(t.TempDir(), "owfuse.log")
	r := daemonMount(t, addr, mnt, "-o", "log_file="+logFile)
	if r.code != exitOK {
		b, _ := os.ReadFile(logFile)
		t.Fatalf("owfuse mount --daemon over a stale mount: exit %d, stderr %q; log:\n%s", r.code, r.stderr, b)
	}
	helperWantServes(t, mnt)
	if ms := mounts(t, mnt); len(ms) != 1 {
		t.Errorf("%d mounts at %s, want the new one only: %+v", len(ms), mnt, ms)
	}
	log := daemonLogWait(t, logFile, "msg=mounted")
	if !strings.Contains(log, "stale") || !strings.Contains(log, "mountpoint="+mnt) {
		t.Errorf("log %s: no line about clearing the stale mount at %s:\n%s", logFile, mnt, log)
	}
	// The new daemon stops as any other: SIGTERM unmounts.
	pid = daemonPid(t, mnt)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !daemonWaitGone(pid, stopDeadline) {
		t.Errorf("daemon %d still runs %v after SIGTERM", pid, stopDeadline)
	}
	if !waitUnmounted(t, mnt, unmountDeadline) {
		b, _ := os.ReadFile(logFile)
		t.Errorf("%s still mounted after the daemon that cleared the stale mount exited on SIGTERM: %+v; log:\n%s", mnt, mounts(t, mnt), b)
	}
}

// daemonFIFO is a named pipe given to a daemon as its -o log_file, whose
// buffer the test fills before the mount: the daemon's first log line
// ("mounted", written after it told owfuse mount --daemon that the mount
// answers) then waits until the test drains the pipe. That holds the
// daemon, deterministically, at the first instant a caller may signal it.
type daemonFIFO struct {
	path string
	fd   int
	mu   sync.Mutex // guards following
	got  []byte     // what was read after the filler
	stop bool
}

// daemonFullFIFO makes the pipe and fills its buffer. The test keeps it
// open for reading and writing until it ends (the daemon's opens do not
// block on it, and its writes never fail): register it before the
// mountpoint, so that the daemon is stopped before the pipe closes.
func daemonFullFIFO(t *testing.T) *daemonFIFO {
	t.Helper()
	p := &daemonFIFO{path: filepath.Join(t.TempDir(), "owfuse.log")}
	if err := syscall.Mkfifo(p.path, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(p.path, syscall.O_RDWR|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.fd = fd
	t.Cleanup(func() {
		p.mu.Lock()
		p.stop = true
		p.mu.Unlock()
		syscall.Close(fd)
	})
	filler := bytes.Repeat([]byte("filler\n"), 512)
	for _, chunk := range [][]byte{filler, filler[:1]} {
		for {
			if _, err := syscall.Write(fd, chunk); err != nil {
				if !errors.Is(err, syscall.EAGAIN) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	return p
}

// drain reads the pipe from now on, until the test ends.
func (p *daemonFIFO) drain() {
	go func() {
		buf := make([]byte, 64*1024)
		for {
			p.mu.Lock()
			if p.stop {
				p.mu.Unlock()
				return
			}
			n, err := syscall.Read(p.fd, buf)
			if n > 0 {
				p.got = append(p.got, bytes.ReplaceAll(buf[:n], []byte("filler\n"), nil)...)
			}
			p.mu.Unlock()
			if err != nil || n == 0 {
				time.Sleep(pollInterval) // polling interval, not synchronisation
			}
		}
	}()
}

// log returns what was read after the filler.
func (p *daemonFIFO) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(bytes.TrimLeft(p.got, "f")) // a filler line cut by a read
}

// daemonFIFOWait polls the drained log until it holds text.
func daemonFIFOWait(t *testing.T, p *daemonFIFO, text string) bool {
	t.Helper()
	deadline := time.Now().Add(stopDeadline)
	for !strings.Contains(p.log(), text) {
		if time.Now().After(deadline) {
			t.Errorf("log: no %q within %v; it holds:\n%s", text, stopDeadline, p.log())
			return false
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}
	return true
}

// TestDaemonSignalAtOnce: once owfuse mount --daemon has returned 0, the
// daemon handles SIGTERM (unmount, exit) and SIGHUP (drop caches, keep
// serving), however soon they come. The daemon's log is a pipe whose
// buffer is full, which holds the daemon at its first log line, right
// after it reported the mount live, until the signal has been sent.
func TestDaemonSignalAtOnce(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			fifo := daemonFullFIFO(t)
			mnt := helperMountDir(t)
			if r := daemonMount(t, addr, mnt, "-o", "log_file="+fifo.path); r.code != exitOK {
				t.Fatalf("owfuse mount --daemon: exit %d, stderr %q", r.code, r.stderr)
			}
			pid := daemonPid(t, mnt)
			if err := syscall.Kill(pid, sig); err != nil {
				t.Fatal(err)
			}
			fifo.drain()
			if sig == syscall.SIGHUP {
				deadline := time.Now().Add(stopDeadline)
				for !strings.Contains(fifo.log(), "SIGHUP: caches dropped") {
					if daemonGone(pid) {
						_, err := os.Stat(mnt)
						exec.Command("umount", "-l", mnt).Run()
						t.Fatalf("SIGHUP right after the mount killed the daemon and left %s mounted (stat: %v); log:\n%s", mnt, err, fifo.log())
					}
					if time.Now().After(deadline) {
						t.Fatalf("log: no SIGHUP line within %v; it holds:\n%s", stopDeadline, fifo.log())
					}
					time.Sleep(pollInterval) // polling interval, not synchronisation
				}
				helperWantServes(t, mnt)
				return // the cleanup stops it
			}
			if !daemonWaitGone(pid, stopDeadline) {
				t.Errorf("daemon %d still runs %v after SIGTERM", pid, stopDeadline)
			}
			if !waitUnmounted(t, mnt, unmountDeadline) {
				_, err := os.Stat(mnt)
				exec.Command("umount", "-l", mnt).Run()
				t.Errorf("SIGTERM right after the mount: the daemon exited and left %s mounted (stat: %v); log:\n%s", mnt, err, fifo.log())
			} else {
				daemonFIFOWait(t, fifo, "msg=unmounted mountpoint="+mnt+" signal=terminated")
			}
		})
	}
}

// TestDaemonSignalWhileWaitingForServer: SIGINT (Ctrl-C) or SIGTERM
// (systemctl stop, under the README's unit with --wait-server 60s) stops
// an owfuse that is still waiting for owserver to answer, at once, and
// nothing is mounted.
func TestDaemonSignalWhileWaitingForServer(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := silentAddr(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := helperMountDir(t)
			m := startOwfuse(t, addr, dir, "--wait-server", "60s")
			m.dir = dir
			deadline := time.Now().Add(mountDeadline)
			for !strings.Contains(m.stderr.String(), "waiting for owserver") {
				select {
				case <-m.exited:
					t.Fatalf("owfuse exited (code %d) instead of waiting for owserver; stderr:\n%s", m.code(), m.stderr.String())
				case <-time.After(pollInterval):
				}
				if time.Now().After(deadline) {
					m.stop(t, syscall.SIGKILL)
					t.Fatalf("owfuse did not say it waits for owserver within %v; stderr:\n%s", mountDeadline, m.stderr.String())
				}
			}
			m.signal(t, sig)
			m.waitExit(t, quickly) // fails t (and kills owfuse) if it keeps waiting
			helperWantNothingMounted(t, dir)
		})
	}
}

// silentAddr returns a loopback address where nothing listens: a server
// that refuses connections.
func silentAddr(t *testing.T) string {
	t.Helper()
	port, err := owtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// TestDaemonParentSignalStopsTheChild: Ctrl-C on `owfuse mount --daemon`
// (or systemd stopping mount(8)) while the detached child waits for
// owserver stops the child too, says so, and nothing is mounted later.
// The child runs in a session of its own: before, the parent died of the
// signal without a word and the child mounted once owserver came up.
func TestDaemonParentSignalStopsTheChild(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := silentAddr(t)
	dir := helperMountDir(t)
	logFile := filepath.Join(t.TempDir(), "owfuse.log")
	m := startOwfuse(t, "--daemon", "--log-file", logFile, "--wait-server", "60s", addr, dir)
	daemonLogWait(t, logFile, "waiting for owserver")
	m.signal(t, syscall.SIGINT)
	r := m.waitExit(t, quickly)
	if r.code == exitOK || !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("owfuse exited %d on SIGINT while its child waited, stderr %q; want a failure that says it was interrupted", r.code, r.stderr)
	}
	for deadline := time.Now().Add(stopDeadline); len(daemonPids(t, dir)) > 0; time.Sleep(pollInterval) {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon child (pids %v) still runs %v after its parent was interrupted", daemonPids(t, dir), stopDeadline)
		}
	}
	helperWantNothingMounted(t, dir)
}
