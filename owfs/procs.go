package owfs

import (
	"log/slog"
	"runtime"
	rtmetrics "runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// procGovernor runs the daemon's Go code on one processor while FUSE
// calls come one at a time, and on all of them once calls overlap.
//
// Why: a lone caller (cat, a script polling a sensor, find) makes every
// call wait for the one before it, and with several processors the Go
// scheduler spends wake-ups on idle ones: measured on 2 cores, one
// processor cuts context switches per open+read+close from 6.0 to 3.5 and
// raises such reads from ~11k to ~14k per second. Overlapping callers
// need every processor (8 readers of uncached values: ~7k/s against ~5k/s
// on one). So the governor watches how often a call starts while another
// is under way and moves GOMAXPROCS, at most once per window; a burst of
// overlap switches up at once.
//
// The change stops the world for some microseconds, so it is rare by
// construction. A GOMAXPROCS set in the environment is left alone (Serve
// does not start a governor then).
type procGovernor struct {
	max    int           // GOMAXPROCS when calls overlap
	window time.Duration // how long calls are watched before switching down
	now    func() int64  // UnixNano; a fake in tests
	set    func(int)     // runtime.GOMAXPROCS; a fake in tests
	heap   func() uint64 // live heap bytes after the last collection; a fake in tests
	log    *slog.Logger

	inflight   atomic.Int32
	calls      atomic.Int64 // calls started in the current window
	overlapped atomic.Int64 // of which found another call under way
	since      atomic.Int64 // start of the current window, UnixNano
	procs      atomic.Int32 // GOMAXPROCS as last set

	mu sync.Mutex // serialises decisions
}

// Thresholds of the governor: a window in which at least overlapShare of
// the calls overlapped (and at least overlapMin of them) calls for every
// processor; below, one is enough. overlapBurst overlapping calls at that
// share switch up before the window ends. A live heap of bigHeap keeps
// every processor too.
const (
	governorWindow = 100 * time.Millisecond
	overlapShare   = 0.05
	overlapMin     = 4
	overlapBurst   = 16
	bigHeap        = 16 << 20 // live bytes
)

// liveHeap returns the heap the last collection found live.
func liveHeap() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func newProcGovernor(max int, log *slog.Logger) *procGovernor {
	g := &procGovernor{
		log:    log,
		max:    max,
		window: governorWindow,
		now:    func() int64 { return time.Now().UnixNano() },
		set:    func(n int) { runtime.GOMAXPROCS(n) },
		heap:   liveHeap,
	}
	g.procs.Store(int32(runtime.GOMAXPROCS(0)))
	g.since.Store(g.now())
	return g
}

// enter marks the start of a call; leave must follow.
func (g *procGovernor) enter() {
	g.calls.Add(1)
	if g.inflight.Add(1) > 1 {
		n := g.overlapped.Add(1)
		if n >= overlapBurst && float64(n) >= overlapShare*float64(g.calls.Load()) && g.procs.Load() < int32(g.max) {
			g.decide(g.now(), true)
			return
		}
	}
	if now := g.now(); now-g.since.Load() >= int64(g.window) {
		g.decide(now, false)
	}
}

func (g *procGovernor) leave() { g.inflight.Add(-1) }

// decide ends the window (or, for a burst, the wait for its end) and sets
// GOMAXPROCS from what the window saw.
func (g *procGovernor) decide(now int64, burst bool) {
	if !g.mu.TryLock() {
		return // someone else is deciding
	}
	defer g.mu.Unlock()
	since := g.since.Load()
	if !burst && now-since < int64(g.window) {
		return // another caller closed this window already
	}
	calls, overlapped := g.calls.Load(), g.overlapped.Load()
	heap := g.heap()
	want := 1
	switch {
	case burst, overlapped >= overlapMin && float64(overlapped) >= overlapShare*float64(calls):
		want = g.max
	case heap >= bigHeap:
		// Marking a big heap (the nodes of a walked 1,000-device bus) takes
		// long; on one processor it would sit on every call's path (warm
		// walk of that bus: 0.83 s on 2, 2.3 s on 1).
		want = g.max
	}
	g.calls.Store(0)
	g.overlapped.Store(0)
	g.since.Store(now)
	if int32(want) != g.procs.Load() {
		g.set(want)
		g.procs.Store(int32(want))
		g.log.Debug("GOMAXPROCS changed", "procs", want, "calls", calls, "overlapped", overlapped, "live_heap", heap, "burst", burst)
	}
}

// Procs returns the GOMAXPROCS the governor last set.
func (g *procGovernor) Procs() int { return int(g.procs.Load()) }

// governedFS counts the FUSE calls a caller waits for. Release, forget
// and interrupt are left out: the kernel sends them without anyone
// waiting, so they overlap the caller's next call harmlessly.
type governedFS struct {
	fuse.RawFileSystem
	g *procGovernor
}

func (f governedFS) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.Lookup(cancel, h, name, out)
}

func (f governedFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.GetAttr(cancel, in, out)
}

func (f governedFS) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.SetAttr(cancel, in, out)
}

func (f governedFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.Open(cancel, in, out)
}

func (f governedFS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.Read(cancel, in, buf)
}

func (f governedFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.Write(cancel, in, data)
}

func (f governedFS) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.Flush(cancel, in)
}

func (f governedFS) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.OpenDir(cancel, in, out)
}

func (f governedFS) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.ReadDir(cancel, in, out)
}

func (f governedFS) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.ReadDirPlus(cancel, in, out)
}

func (f governedFS) GetXAttr(cancel <-chan struct{}, h *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.GetXAttr(cancel, h, attr, dest)
}

func (f governedFS) Statx(cancel <-chan struct{}, in *fuse.StatxIn, out *fuse.StatxOut) fuse.Status {
	f.g.enter()
	defer f.g.leave()
	return f.RawFileSystem.Statx(cancel, in, out)
}
