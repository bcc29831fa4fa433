package mountlib

import (
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

// BenchmarkStopperCall is the cost the stopper adds to every call that
// may wait for owserver.
func BenchmarkStopperCall(b *testing.B) {
	s := newStopper()
	interrupt := make(chan struct{})
	for b.Loop() {
		s.enter(interrupt).leave()
	}
}
