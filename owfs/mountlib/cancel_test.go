package mountlib_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
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
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if owtest.InCI() {
			t.Fatal("/dev/fuse is missing (CI=true: this fails the run)")
		}
		t.Skip("no /dev/fuse")
	}
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
