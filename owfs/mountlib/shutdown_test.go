package mountlib

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// blockingFS answers Read as the filesystem does a call waiting for a
// frozen owserver: it returns EINTR once its cancel channel closes, and
// tells the test it started.
type blockingFS struct {
	fuse.RawFileSystem
	started chan struct{}
}

func (f blockingFS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	f.started <- struct{}{}
	<-cancel
	return nil, fuse.EINTR
}

func newBlocking() (stoppableFS, chan struct{}) {
	started := make(chan struct{}, 16)
	return stoppableFS{RawFileSystem: blockingFS{RawFileSystem: fuse.NewDefaultRawFileSystem(), started: started}, s: newStopper()}, started
}

// The kernel's interrupt still reaches a call (Ctrl-C on a cat of a
// frozen owserver), which then answers EINTR, as without the stopper.
func TestStopperPassesInterrupt(t *testing.T) {
	f, started := newBlocking()
	interrupt := make(chan struct{})
	got := make(chan fuse.Status, 1)
	go func() {
		_, st := f.Read(interrupt, &fuse.ReadIn{}, nil)
		got <- st
	}()
	<-started
	close(interrupt)
	if st := <-got; st != fuse.EINTR {
		t.Errorf("interrupted read: %v, want EINTR", st)
	}
	if _, cancelled, left := f.s.stop(time.Hour, time.Hour); cancelled != 0 || left != 0 {
		t.Errorf("stop with nothing under way: %d cancelled, %d left", cancelled, left)
	}
}

// stop cancels a call that does not finish within the grace period; its
// caller gets EIO, not EINTR (nobody interrupted it), and later calls
// fail with EIO without reaching the filesystem.
func TestStopperCancels(t *testing.T) {
	f, started := newBlocking()
	const calls = 3
	got := make(chan fuse.Status, calls)
	for range calls {
		go func() {
			_, st := f.Read(make(chan struct{}), &fuse.ReadIn{}, nil)
			got <- st
		}()
	}
	for range calls {
		<-started
	}
	start := time.Now()
	underway, cancelled, left := f.s.stop(20*time.Millisecond, time.Minute)
	if underway != calls || cancelled != calls || left != 0 {
		t.Errorf("stop: %d under way, %d cancelled, %d left; want %d, %d and 0", underway, cancelled, left, calls, calls)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("stop took %v", took)
	}
	for range calls {
		if st := <-got; st != fuse.EIO {
			t.Errorf("read cancelled by stop: %v, want EIO", st)
		}
	}
	if _, st := f.Read(make(chan struct{}), &fuse.ReadIn{}, nil); st != fuse.EIO {
		t.Errorf("read after stop: %v, want EIO", st)
	}
	select {
	case <-started:
		t.Error("a read after stop reached the filesystem")
	default:
	}
}

// stop returns as soon as the calls under way finish by themselves,
// without cancelling them.
func TestStopperGrace(t *testing.T) {
	s := newStopper()
	c := s.enter(make(chan struct{}))
	if c == nil {
		t.Fatal("enter refused before stop")
	}
	go c.leave()
	if _, cancelled, left := s.stop(time.Hour, time.Hour); cancelled != 0 || left != 0 {
		t.Errorf("stop: %d cancelled, %d left; want none", cancelled, left)
	}
	select {
	case <-s.cancelled:
	default:
		// Not closed: nothing was cancelled.
		return
	}
	t.Error("stop cancelled although the call finished within the grace period")
}

// A context derived from a call's (the cache's request timeout) ends with
// the call's: at the kernel's interrupt, at stop, and when the call
// returns. It is registered with the call itself, not watched by a
// goroutine of its own, and a derived context cancelled first leaves
// nothing registered.
func TestStopperContextEndsDerived(t *testing.T) {
	s := newStopper()
	derive := func(c *call) (context.Context, context.CancelFunc) {
		t.Helper()
		ctx := s.context(&fuse.Context{Cancel: c.cancel})
		if _, ok := ctx.(callContext); !ok {
			t.Fatalf("context of a call under way is a %T", ctx)
		}
		d, cancel := context.WithTimeout(ctx, time.Hour)
		s.mu.Lock()
		n := len(c.after)
		s.mu.Unlock()
		if n != 1 {
			t.Fatalf("derived context: %d functions registered with the call, want 1 (a goroutine watches it)", n)
		}
		return d, cancel
	}
	ended := func(what string, d context.Context) {
		t.Helper()
		select {
		case <-d.Done():
			if !errors.Is(d.Err(), context.Canceled) {
				t.Errorf("%s: derived context ended with %v, want context.Canceled", what, d.Err())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: derived context did not end", what)
		}
	}

	// Cancelled by its maker: nothing stays registered.
	c := s.enter(make(chan struct{}))
	_, cancel := derive(c)
	cancel()
	s.mu.Lock()
	n := len(c.after)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("after the derived context's cancel: %d functions registered, want 0", n)
	}

	// The call returns.
	d, cancel := derive(c)
	defer cancel()
	c.leave()
	ended("call returned", d)

	// The kernel's interrupt, which the watcher forwards.
	interrupt := make(chan struct{})
	c = s.enter(interrupt)
	d, cancel = derive(c)
	defer cancel()
	close(interrupt)
	ended("interrupt", d)
	c.leave()

	// stop.
	c = s.enter(make(chan struct{}))
	d, cancel = derive(c)
	defer cancel()
	go s.stop(0, time.Hour)
	ended("stop", d)
	c.leave()

	// A context of no call under way still ends with its parent, through
	// context.AfterFunc.
	parent := make(chan struct{})
	d, cancel = context.WithTimeout(s.context(&fuse.Context{Cancel: parent}), time.Hour)
	defer cancel()
	close(parent)
	ended("no call", d)

	// Contexts that are not a call's pass unchanged.
	if ctx := s.context(context.Background()); ctx != context.Background() {
		t.Errorf("context.Background became %T", ctx)
	}
}

// BenchmarkStopperCall is the cost the stopper adds to every call that
// may wait for owserver.
func BenchmarkStopperCall(b *testing.B) {
	s := newStopper()
	interrupt := make(chan struct{})
	for b.Loop() {
		s.enter(interrupt).leave()
	}
}
