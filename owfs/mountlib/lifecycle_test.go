package mountlib_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// signalOn is a slog handler that closes ch at the first record whose
// message is msg.
type signalOn struct {
	msg string
	ch  chan struct{}
}

func (h signalOn) Enabled(context.Context, slog.Level) bool { return true }
func (h signalOn) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case <-h.ch:
		default:
			close(h.ch)
		}
	}
	return nil
}
func (h signalOn) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalOn) WithGroup(string) slog.Handler      { return h }

// A mount whose context ends while it waits for owserver (a service
// stopped during wait_server) gives up at once, says why, and leaves
// nothing mounted.
func TestMountGivesUpWhenItsContextEnds(t *testing.T) {
	requireFUSEHere(t)
	port, err := owtest.FreePort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	cfg := mountlib.DefaultConfig()
	cfg.WaitServer = time.Minute
	cfg.Logger = slog.New(signalOn{msg: "waiting for owserver", ch: waiting})
	dir := t.TempDir()
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stopped by the test")
	go func() { <-waiting; cancel(stop) }()

	start := time.Now()
	m, err := mountlib.Mount(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir, cfg)
	if err == nil {
		m.Unmount()
		t.Fatal("mounted a server that never answered")
	}
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "interrupted before the mount was up") {
		t.Errorf("error %q, want one wrapping the context's cause", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("gave up after %v, not when the context ended", d)
	}
	if ms, err := mountlib.Mounts(dir); err != nil || len(ms) != 0 {
		t.Errorf("mounts at %s after giving up: %v, %v", dir, ms, err)
	}
}

// Unmounting goes by path; a mount made at that path after ours was
// detached by hand (umount -l) is someone else's, and stays.
func TestUnmountLeavesAnotherMountAtThePath(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	cfg := mountlib.DefaultConfig()
	srv := owtest.StartOwserver(t, "--tester", "10")
	requireFUSEHere(t)
	dir := t.TempDir()
	m, err := mountlib.Mount(context.Background(), srv.Addr, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	precious := filepath.Join(dir, "precious")
	if err := os.WriteFile(precious, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if lazy, err := m.Unmount(); err != nil || lazy {
		t.Errorf("Unmount: lazy %v, %v", lazy, err)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "keep" {
		t.Errorf("the tmpfs mounted after ours: %q, %v; want it left alone", b, err)
	}
}

// requireFUSEHere skips without /dev/fuse, or fails under CI=true.
func requireFUSEHere(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if owtest.InCI() {
			t.Fatal("/dev/fuse is missing (CI=true: this fails the run)")
		}
		t.Skip("no /dev/fuse")
	}
}

// A server that answers in another protocol (a web server on the port)
// fails the mount at once as not owserver, not as unreachable after
// wait_server.
func TestMountRefusesAServerOfAnotherProtocol(t *testing.T) {
	requireFUSEHere(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			c.Close()
		}
	}()
	cfg := mountlib.DefaultConfig()
	cfg.WaitServer = time.Minute
	start := time.Now()
	m, err := mountlib.Mount(context.Background(), l.Addr().String(), t.TempDir(), cfg)
	if err == nil {
		m.Unmount()
		t.Fatal("mounted a web server")
	}
	var ue *mountlib.UnreachableError
	if errors.As(err, &ue) || !strings.Contains(err.Error(), "does not answer as owserver does") {
		t.Errorf("error %q (unreachable: %v), want one saying it is not owserver", err, errors.As(err, &ue))
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("gave up after %v: waited as for a server that is down", d)
	}
}
