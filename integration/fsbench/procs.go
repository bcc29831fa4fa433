package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// Cleanups run in reverse order of registration, each once, whichever
// way fsbench ends: normal return, error, panic or signal. Once cleanupAll
// has begun no process starts any more (startProc fails), so that the
// main goroutine, still running while a signal handler cleans up, cannot
// leave one behind.
var (
	cleanupMu sync.Mutex // guards following
	cleanups  []*cleanup
	stopping  bool
)

type cleanup struct {
	name string
	once sync.Once
	f    func()
}

// atExit registers f and returns a function that runs it now (once)
// instead of at exit.
func atExit(name string, f func()) func() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	return atExitLocked(name, f)
}

func atExitLocked(name string, f func()) func() {
	c := &cleanup{name: name, f: f}
	cleanups = append(cleanups, c)
	return func() { c.once.Do(c.f) }
}

// cleanupAll runs every pending cleanup, newest first.
func cleanupAll() {
	cleanupMu.Lock()
	stopping = true
	list := append([]*cleanup(nil), cleanups...)
	cleanupMu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].once.Do(list[i].f)
	}
}

// goSafe runs f in a goroutine; a panic there cleans up before it crashes
// the program, as main's deferred cleanup would not run.
func goSafe(f func()) {
	go func() {
		defer func() {
			if r := recover(); r != nil {
				cleanupAll()
				panic(r)
			}
		}()
		f()
	}()
}

// proc is a child process: an owserver or a FUSE server.
type proc struct {
	name     string
	mountDir string // a FUSE server's mountpoint
	cmd      *exec.Cmd
	close    func() // stops it (and unmounts), once
	mu       sync.Mutex
	out      bytes.Buffer
	done     chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out.Len() < 1<<20 {
		p.out.Write(b)
	}
	return len(b), nil
}

// output is what the process printed so far, trimmed to its last lines.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := strings.TrimSpace(p.out.String())
	if lines := strings.Split(s, "\n"); len(lines) > 10 {
		s = strings.Join(lines[len(lines)-10:], "\n")
	}
	return s
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startProc starts a child in its own process group (so that a Ctrl-C
// reaches only fsbench, which then takes everything down in order) that
// gets deathSig should fsbench die without cleaning up. Its cleanup,
// registered at once, is p.close: for a FUSE server (mountDir set) an
// unmount that lets it exit, then SIGTERM, SIGKILL, a lazy unmount if the
// mount is still there, and the removal of mountDir.
func startProc(name string, deathSig syscall.Signal, mountDir, path string, args ...string) (*proc, error) {
	p := &proc{name: name, mountDir: mountDir, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	if stopping {
		return nil, fmt.Errorf("start %s: fsbench is stopping", name)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	p.close = atExitLocked(name, p.shutdown)
	return p, nil
}

func (p *proc) shutdown() {
	if p.mountDir == "" {
		p.stop(time.Second)
		return
	}
	if isMounted(p.mountDir) {
		if err := unix.Unmount(p.mountDir, 0); err != nil && isMounted(p.mountDir) {
			unix.Unmount(p.mountDir, unix.MNT_DETACH)
		}
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.stop(3 * time.Second)
	}
	if isMounted(p.mountDir) {
		unix.Unmount(p.mountDir, unix.MNT_DETACH)
	}
	os.Remove(p.mountDir)
}

// stop sends SIGTERM, waits up to grace, then kills.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	p.cmd.Process.Kill()
	<-p.done
}

// ---- owserver ----

// emptyConf returns the path of an empty regular file, created once under
// tmp, for owserver's and owfs's -c: with -c /dev/null owserver stops
// listening after a read of /settings, and without -c they read
// /etc/owfs.conf. It is never written again: owserver watches its
// configuration file and, when it changes, closes its listening socket for
// 5 s to reload.
func emptyConf(tmp string) (string, error) {
	conf := filepath.Join(tmp, "empty.conf")
	f, err := os.OpenFile(conf, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return "", err
	}
	return conf, f.Close()
}

// server is an owserver child.
type server struct {
	addr string
	pid  int
	stop func()
}

// startOwserver starts `owserver --foreground` with args on a free
// loopback port, with an empty regular file as configuration, and
// returns it once it answers.
func startOwserver(tmp string, args ...string) (*server, error) {
	conf, err := emptyConf(tmp)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := owtest.FreePort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		full := append([]string{"-c", conf, "-p", addr, "--foreground", "--error_level=0"}, args...)
		p, err := startProc("owserver "+addr, syscall.SIGKILL, "", "owserver", full...)
		if err != nil {
			return nil, err
		}
		if err := owtest.WaitReady(addr, 10*time.Second, p.done); err != nil {
			p.close()
			lastErr = fmt.Errorf("%w; owserver said: %s", err, p.output())
			continue // most likely the port was taken in between
		}
		return &server{addr: addr, pid: p.cmd.Process.Pid, stop: p.close}, nil
	}
	return nil, fmt.Errorf("owserver %s did not start: %w", strings.Join(args, " "), lastErr)
}

// bigBusFamilies are ten families that work with --fake; one family per
// server, so that the 1,000 ids never repeat (100 times the same family in
// one --fake list gives 100 distinct ids). Not 12 (DS2406) nor 1F
// (DS2409): their aux/ and main/ branches list the whole fake bus again,
// so that a walk never ends.
var bigBusFamilies = []string{"10", "22", "28", "3B", "42", "26", "1D", "20", "3A", "29"}

// bus is a set of owservers; stop ends them all.
type bus struct {
	addr string
	stop []func()
}

func (b *bus) close() {
	for i := len(b.stop) - 1; i >= 0; i-- {
		b.stop[i]()
	}
}

// startBigBus starts ten fake owservers of 100 devices each (a --fake list
// longer than about 140 entries crashes owserver) and one owserver in
// front of them all.
func startBigBus(tmp string) (*bus, error) {
	b := &bus{}
	var front []string
	for _, fam := range bigBusFamilies {
		srv, err := startOwserver(tmp, "--fake", strings.TrimSuffix(strings.Repeat(fam+",", 100), ","))
		if err != nil {
			b.close()
			return nil, err
		}
		b.stop = append(b.stop, srv.stop)
		front = append(front, "-s", srv.addr)
	}
	srv, err := startOwserver(tmp, front...)
	if err != nil {
		b.close()
		return nil, err
	}
	b.stop = append(b.stop, srv.stop)
	b.addr = srv.addr
	if err := waitDevices(b.addr, 100*len(bigBusFamilies), 20*time.Second); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// waitDevices waits until the owserver at addr lists want devices at its
// root: the front owserver answers a NOP before it has reached the ones
// behind it, and owfs, mounted then, finds "No valid 1-wire buses".
func waitDevices(addr string, want int, timeout time.Duration) error {
	c, err := owclient.New(addr, owclient.Options{})
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		list, err := c.Dir(ctx, "/")
		cancel()
		n := 0
		for _, p := range list {
			if owclient.IsDeviceName(strings.Trim(p, "/")) {
				n++
			}
		}
		if n == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("owserver %s lists %d devices, not %d, after %v (last error: %v)", addr, n, want, timeout, err)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
}

// ---- FUSE mounts ----

// mount is a FUSE filesystem served by a child process.
type mount struct {
	dir   string
	proc  *proc
	close func() // unmounts, stops the server, removes dir
}

func (m *mount) pid() int { return m.proc.cmd.Process.Pid }

// isMounted reports whether dir is a mountpoint in /proc/self/mountinfo.
func isMounted(dir string) bool {
	ms, _ := mountlib.Mounts(dir)
	return len(ms) > 0
}

// startMount starts a FUSE server child on a fresh directory under tmp and
// waits until dir shows in /proc/self/mountinfo and answers.
func startMount(tmp, kind string, path string, argsFor func(dir string) []string) (*mount, error) {
	dir, err := os.MkdirTemp(tmp, kind+"-mnt-")
	if err != nil {
		return nil, err
	}
	p, err := startProc(kind, syscall.SIGTERM, dir, path, argsFor(dir)...)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	m := &mount{dir: dir, proc: p, close: p.close}
	deadline := time.Now().Add(20 * time.Second)
	for !isMounted(dir) {
		if p.exited() {
			m.close()
			return nil, fmt.Errorf("%s exited before mounting %s: %s", kind, dir, p.output())
		}
		if time.Now().After(deadline) {
			m.close()
			return nil, fmt.Errorf("%s did not mount %s within 20s: %s", kind, dir, p.output())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if _, err := os.ReadDir(dir); err != nil {
		m.close()
		return nil, fmt.Errorf("%s mounted %s but it does not answer: %v; %s", kind, dir, err, p.output())
	}
	return m, nil
}

// mountOwfuse mounts server with the owfuse binary, in the foreground,
// with its defaults.
func mountOwfuse(tmp, bin, server string) (*mount, error) {
	return startMount(tmp, "owfuse", bin, func(dir string) []string {
		return []string{"mount", server, dir}
	})
}

// mountOwfs mounts server with OWFS's own FUSE client.
func mountOwfs(tmp, bin, server string) (*mount, error) {
	conf, err := emptyConf(tmp)
	if err != nil {
		return nil, err
	}
	return startMount(tmp, "owfs", bin, func(dir string) []string {
		return []string{"-c", conf, "-s", server, "-m", dir, "--foreground", "--error_level=0"}
	})
}

// mountCeiling mounts the constant-file filesystem, served by this very
// program re-executed in ceiling mode.
func mountCeiling(tmp string) (*mount, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startMount(tmp, "ceiling", self, func(dir string) []string {
		return []string{ceilingMode, dir}
	})
}

// msgCounts are owserver requests by message type, as a relay counts them.
type msgCounts map[string]float64

func (c msgCounts) total() float64 {
	var t float64
	for _, v := range c {
		t += v
	}
	return t
}

func (c msgCounts) add(o msgCounts) {
	for k, v := range o {
		c[k] += v
	}
}

// memory is a process's resident set now and at its peak, in bytes.
func memory(pid int) (rss, peak int64, err error) {
	now, err := owtest.ProcStatusKB(pid, "VmRSS")
	if err != nil {
		return 0, 0, err
	}
	hwm, err := owtest.ProcStatusKB(pid, "VmHWM")
	return int64(now) << 10, int64(hwm) << 10, err
}

// cpuTime is what owtest.ProcCPU says of pid, 0 for pid 0 (no process)
// or one it cannot read.
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	return max(owtest.ProcCPU(pid), 0)
}
