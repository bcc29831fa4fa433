package mountlib

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owfs"
)

// stopper ends the FUSE calls that wait for owserver when the mount is
// told to stop.
//
// Why: a call waits for owserver for up to the request timeout (10 s by
// default), and forever if the kernel never interrupts it. At SIGTERM
// such a call kept its caller's file open, so the unmount found the mount
// busy, detached it lazily and then waited for the kernel to end the
// session; readers of a frozen owserver held owfuse for seconds, and most
// of them then got "Software caused connection abort" from the dying
// connection. go-fuse cancels its calls only once the connection has
// ended, which is what the unmount was waiting for. So the calls that may
// wait for owserver run with a cancel channel of their own, closed by
// either stop or the kernel's interrupt.
//
// The interrupt (Ctrl-C on a cat of a frozen owserver) must still reach
// a call, and only a select can join two channels. A goroutine or a
// timer per call to do so is paid by every call (BenchmarkStopperCall
// compares), and reads of cached values make three such calls each; yet
// only a call that waits can be interrupted. So one watcher, running only while calls are under way,
// looks at them every watchAfter and starts a forwarding goroutine for
// each that it finds under way twice.
type stopper struct {
	cancelled chan struct{} // closed by stop when it cancels what is left

	mu       sync.Mutex // guards following and every call's fields
	calls    call       // sentinel of the ring of calls under way
	inflight int
	watching bool          // the watcher runs
	closing  bool          // stop began: new calls fail at once
	idle     chan struct{} // closed when inflight drops to 0 while closing
}

// call is one FUSE call under way.
type call struct {
	s          *stopper
	interrupt  <-chan struct{} // go-fuse's, closed by the kernel's interrupt
	cancel     chan struct{}   // the call's; closed by stop, interrupt or leave
	closed     bool            // cancel is closed
	seen       bool            // by the watcher
	forwarded  bool            // a goroutine forwards interrupt
	after      []*afterFunc    // run when cancel closes; see context
	prev, next *call
}

// afterFunc is a function registered with a call's context's AfterFunc.
type afterFunc struct{ f func() }

// watchAfter is how often the watcher looks at the calls under way: an
// interrupt reaches a call within two of them.
const watchAfter = 10 * time.Millisecond

func newStopper() *stopper {
	s := &stopper{cancelled: make(chan struct{})}
	s.calls.prev, s.calls.next = &s.calls, &s.calls
	return s
}

// enter starts a call, whose cancel channel the call is to watch and
// whose leave it must run when it returns; nil once stop has begun.
func (s *stopper) enter(interrupt <-chan struct{}) *call {
	c := &call{s: s, interrupt: interrupt, cancel: make(chan struct{})}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.inflight++
	c.prev, c.next = s.calls.prev, &s.calls
	c.prev.next, s.calls.prev = c, c
	if !s.watching {
		s.watching = true
		go s.watch()
	}
	s.mu.Unlock()
	return c
}

// watch starts forwarding the interrupt to the calls that it finds under
// way twice, until none is.
func (s *stopper) watch() {
	t := time.NewTicker(watchAfter)
	defer t.Stop()
	for range t.C {
		s.mu.Lock()
		if s.inflight == 0 {
			s.watching = false
			s.mu.Unlock()
			return
		}
		for c := s.calls.next; c != &s.calls; c = c.next {
			if c.seen && !c.forwarded && !c.closed {
				c.forwarded = true
				go c.forward()
			}
			c.seen = true
		}
		s.mu.Unlock()
	}
}

// forward cancels the call if the kernel interrupts it before it returns.
func (c *call) forward() {
	select {
	case <-c.interrupt:
		c.s.mu.Lock()
		after := c.closeLocked()
		c.s.mu.Unlock()
		runAll(after)
	case <-c.cancel:
	}
}

// closeLocked closes the call's cancel channel and returns the functions
// registered to run then, which the caller runs once it has let go of
// s.mu.
func (c *call) closeLocked() []*afterFunc {
	if c.closed {
		return nil
	}
	c.closed = true
	close(c.cancel)
	after := c.after
	c.after = nil
	return after
}

func runAll(after []*afterFunc) {
	for _, a := range after {
		a.f()
	}
}

// leave ends the call: its cancel channel is closed (nobody watches it any
// more), which also ends a forwarding goroutine.
func (c *call) leave() {
	s := c.s
	s.mu.Lock()
	after := c.closeLocked()
	c.prev.next, c.next.prev = c.next, c.prev
	s.inflight--
	if s.inflight == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
	s.mu.Unlock()
	runAll(after)
}

// context returns ctx, the context go-fuse made for a call, as one whose
// AfterFunc the stopper serves; a context that cannot end is returned as
// it is.
//
// Why: go-fuse's contexts are no context.Context of the standard
// library's making, so a context derived from one (the cache's request
// timeout, for every read under uncached/) watched it with a goroutine of
// its own: one started, parked and woken per request, a few thread
// wake-ups each. The stopper closes the call's cancel channel itself, so
// it can run the derived context's cancellation then instead. The call is
// looked for only when a context is derived: most calls are answered from
// the cache and derive none.
func (s *stopper) context(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx
	}
	return callContext{Context: ctx, s: s}
}

// callContext is a call's context with the AfterFunc method that the
// context package uses, when a parent has one, to learn of the parent's
// end.
type callContext struct {
	context.Context
	s *stopper
}

// AfterFunc runs f once the call's cancel channel closes (the kernel's
// interrupt, stop, or the end of the call), as context.AfterFunc would,
// and returns a function that unregisters f and reports whether it did.
// A context of no call under way is left to context.AfterFunc.
func (x callContext) AfterFunc(f func()) (stop func() bool) {
	s, done := x.s, x.Done()
	s.mu.Lock()
	var c *call
	for e := s.calls.next; e != &s.calls; e = e.next {
		if e.cancel == done {
			c = e
			break
		}
	}
	if c == nil {
		s.mu.Unlock()
		return context.AfterFunc(x.Context, f)
	}
	if c.closed {
		s.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a := &afterFunc{f: f}
	c.after = append(c.after, a)
	s.mu.Unlock()
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		i := slices.Index(c.after, a)
		if i < 0 {
			return false
		}
		c.after = slices.Delete(c.after, i, i+1)
		return true
	}
}

// stopped reports whether a call failed because stop cancelled it, not
// because the kernel interrupted it: its caller is then told EIO, as
// for any owserver request that did not complete, rather than EINTR.
func (s *stopper) stopped(interrupt <-chan struct{}) bool {
	select {
	case <-interrupt:
		return false
	default:
	}
	select {
	case <-s.cancelled:
		return true
	default:
		return false
	}
}

// stop makes new calls fail with EIO, lets the calls under way finish for
// up to grace (owserver answers a healthy request in milliseconds, and a
// write that completes must not be reported failed), then cancels the
// rest and waits up to limit for them to return. It returns the number
// of calls under way when it began, of those it cancelled, and of those
// still under way at the end.
func (s *stopper) stop(grace, limit time.Duration) (underway, cancelled, left int) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return 0, 0, 0
	}
	s.closing = true
	underway = s.inflight
	idle := s.idleLocked()
	s.mu.Unlock()
	select {
	case <-idle:
		return underway, 0, 0
	case <-time.After(grace):
	}
	s.mu.Lock()
	cancelled = s.inflight
	close(s.cancelled)
	var after []*afterFunc
	for c := s.calls.next; c != &s.calls; c = c.next {
		after = append(after, c.closeLocked()...)
	}
	s.mu.Unlock()
	runAll(after)
	select {
	case <-idle:
	case <-time.After(limit):
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return underway, cancelled, s.inflight
}

// idleLocked returns a channel closed once no call is under way.
func (s *stopper) idleLocked() <-chan struct{} {
	if s.inflight == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	return s.idle
}

// status is what a call that stop cancelled returns: EIO for the EINTR
// that the filesystem answers a cancelled call with.
func (s *stopper) status(interrupt <-chan struct{}, st fuse.Status) fuse.Status {
	if st == fuse.EINTR && s.stopped(interrupt) {
		return fuse.EIO
	}
	return st
}

// stoppableFS runs the FUSE calls that may wait for owserver under a
// stopper. The others (attributes, statfs, xattrs, forget, release)
// are answered without owserver, or have nobody waiting for them.
type stoppableFS struct {
	fuse.RawFileSystem
	s *stopper
}

// under runs one call under f's stopper: EIO once stop has begun, and
// EIO rather than EINTR for a call that stop cancelled.
func under[T any](f stoppableFS, interrupt <-chan struct{}, call func(cancel <-chan struct{}) (T, fuse.Status)) (T, fuse.Status) {
	c := f.s.enter(interrupt)
	if c == nil {
		var zero T
		return zero, fuse.EIO
	}
	defer c.leave()
	v, st := call(c.cancel)
	return v, f.s.status(interrupt, st)
}

// only adapts a call that returns a status alone to under.
func only(st fuse.Status) (struct{}, fuse.Status) { return struct{}{}, st }

func (f stoppableFS) Lookup(interrupt <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	_, st := under(f, interrupt, func(c <-chan struct{}) (struct{}, fuse.Status) { return only(f.RawFileSystem.Lookup(c, h, name, out)) })
	return st
}

func (f stoppableFS) SetAttr(interrupt <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	_, st := under(f, interrupt, func(c <-chan struct{}) (struct{}, fuse.Status) { return only(f.RawFileSystem.SetAttr(c, in, out)) })
	return st
}

func (f stoppableFS) Open(interrupt <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	_, st := under(f, interrupt, func(c <-chan struct{}) (struct{}, fuse.Status) { return only(f.RawFileSystem.Open(c, in, out)) })
	return st
}

func (f stoppableFS) Read(interrupt <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	return under(f, interrupt, func(c <-chan struct{}) (fuse.ReadResult, fuse.Status) { return f.RawFileSystem.Read(c, in, buf) })
}

func (f stoppableFS) Write(interrupt <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	return under(f, interrupt, func(c <-chan struct{}) (uint32, fuse.Status) { return f.RawFileSystem.Write(c, in, data) })
}

func (f stoppableFS) Writev(interrupt <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	return under(f, interrupt, func(c <-chan struct{}) (uint32, fuse.Status) { return f.RawFileSystem.Writev(c, in, data) })
}

func (f stoppableFS) Flush(interrupt <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	_, st := under(f, interrupt, func(c <-chan struct{}) (struct{}, fuse.Status) { return only(f.RawFileSystem.Flush(c, in)) })
	return st
}

func (f stoppableFS) Fsync(interrupt <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	_, st := under(f, interrupt, func(c <-chan struct{}) (struct{}, fuse.Status) { return only(f.RawFileSystem.Fsync(c, in)) })
	return st
}

func (f stoppableFS) OpenDir(interrupt <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	_, st := under(f, interrupt, func(c <-chan struct{}) (struct{}, fuse.Status) { return only(f.RawFileSystem.OpenDir(c, in, out)) })
	return st
}

func (f stoppableFS) ReadDir(interrupt <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	_, st := under(f, interrupt, func(c <-chan struct{}) (struct{}, fuse.Status) { return only(f.RawFileSystem.ReadDir(c, in, out)) })
	return st
}

func (f stoppableFS) ReadDirPlus(interrupt <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	_, st := under(f, interrupt, func(c <-chan struct{}) (struct{}, fuse.Status) { return only(f.RawFileSystem.ReadDirPlus(c, in, out)) })
	return st
}

// stoppableBackend gives the cache the contexts of the calls under way as
// the stopper's (see stopper.context).
type stoppableBackend struct {
	owfs.Backend
	s *stopper
}

func (b stoppableBackend) Dir(ctx context.Context, path string) ([]cache.Entry, error) {
	return b.Backend.Dir(b.s.context(ctx), path)
}

func (b stoppableBackend) Present(ctx context.Context, path string) (bool, error) {
	return b.Backend.Present(b.s.context(ctx), path)
}

func (b stoppableBackend) Property(ctx context.Context, path string) (cache.Property, error) {
	return b.Backend.Property(b.s.context(ctx), path)
}

func (b stoppableBackend) Read(ctx context.Context, path string) ([]byte, error) {
	return b.Backend.Read(b.s.context(ctx), path)
}

func (b stoppableBackend) WriteAt(ctx context.Context, path string, data []byte, offset int) error {
	return b.Backend.WriteAt(b.s.context(ctx), path, data, offset)
}
