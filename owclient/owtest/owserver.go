package owtest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
)

// Owserver is a real owserver process started for one test.
type Owserver struct {
	// Addr is the loopback address it listens on, host:port.
	Addr string
	// Cmd is the running process; tests may signal it (SIGSTOP, SIGKILL).
	Cmd *exec.Cmd

	out    Buffer
	exited chan struct{}
}

// InCI reports whether the test runs under CI=true, where a missing tool is
// a failure, never a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require skips the test when the named programs are missing, or fails it
// under CI=true.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			if InCI() {
				t.Fatalf("%s is not installed (CI=true: a missing tool fails the run; .ci/run installs it)", p)
			}
			t.Skipf("%s is not installed (apt-get install owserver ow-shell)", p)
		}
	}
}

// StartOwserver starts owserver with args (e.g. "--fake", "10,28") on a
// free loopback port, waits until it answers a NOP, and stops it when the
// test ends. Each call gets its own process: owserver's settings are
// global to it.
func StartOwserver(t testing.TB, args ...string) *Owserver {
	t.Helper()
	Require(t, "owserver")
	conf := emptyConf(t)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		s, err := startOwserver(conf, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), args)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err // most likely the port was taken in between: try another
	}
	t.Fatalf("owserver %v did not start: %v", args, lastErr)
	return nil
}

// StartOwserverAt starts owserver with args at addr, for a test that
// brings one back on the port of one it killed; otherwise as StartOwserver.
func StartOwserverAt(t testing.TB, addr string, args ...string) *Owserver {
	t.Helper()
	Require(t, "owserver")
	s, err := startOwserver(emptyConf(t), addr, args)
	if err != nil {
		t.Fatalf("owserver %v at %s did not start: %v", args, addr, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// emptyConf returns an empty regular file for owserver's -c: with
// -c /dev/null owserver stops listening after a read of /settings, and
// without -c it reads /etc/owfs.conf.
func emptyConf(t testing.TB) string {
	conf := filepath.Join(t.TempDir(), "owfs.conf")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

func startOwserver(conf, addr string, args []string) (*Owserver, error) {
	full := append([]string{"-c", conf, "-p", addr, "--foreground", "--error_level=0"}, args...)
	s := &Owserver{Addr: addr, exited: make(chan struct{})}
	s.Cmd = exec.Command("owserver", full...)
	s.Cmd.Stdout, s.Cmd.Stderr = &s.out, &s.out
	s.Cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.Cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.Cmd.Wait(); close(s.exited) }()
	if err := WaitReady(addr, 10*time.Second, s.exited); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; owserver said: %s", err, s.Output())
	}
	return s, nil
}

// WaitReady polls addr with NOP requests until one is answered, the
// timeout passes or exited is closed.
func WaitReady(addr string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for {
		if Ping(addr) == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("owserver on %s exited", addr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("owserver on %s did not answer within %v", addr, timeout)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
}

// Ping sends one non-persistent NOP to addr with raw sockets.
func Ping(addr string) error {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := nc.Write(owclient.AppendRequest(nil, owclient.RequestHeader{Type: owclient.MsgNop}, nil)); err != nil {
		return err
	}
	for {
		var hdr [owclient.HeaderSize]byte
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return err
		}
		h := owclient.ParseReplyHeader(hdr[:])
		if !h.IsKeepalive() {
			if h.Ret != 0 {
				return fmt.Errorf("NOP answered %d", h.Ret)
			}
			return nil
		}
	}
}

// Stop kills owserver and waits for it to exit. It is idempotent.
func (s *Owserver) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.Cmd.Process.Signal(syscall.SIGCONT) // a stopped process cannot die
	s.Cmd.Process.Kill()
	<-s.exited
}

// Exited is closed when the process has exited.
func (s *Owserver) Exited() <-chan struct{} { return s.exited }

// Output returns what owserver printed so far.
func (s *Owserver) Output() string { return s.out.String() }

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Buffer is a bytes.Buffer that a process's output copier and a test may
// use at once.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
