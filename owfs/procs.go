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

// procGovernor picks GOMAXPROCS for the daemon: one processor while a
// lone caller reads and writes files, every processor otherwise.
//
// Why: a lone caller (cat in a loop, a script polling sensors) makes each
// call wait for the one before it, and with two processors go-fuse keeps
// two threads waiting on /dev/fuse, which the kernel wakes in turn, so
// that each request wakes a cold thread; on one processor only one thread
// waits. Measured on 2 cores, open+read+close from one process: context
// switches per read 6.0 -> 3.5; cached reads ~12k -> ~15.5k/s, uncached
// ~5.0k -> ~5.8k/s. Other lone callers lose on one processor: listings
// (`ls -l` of a device in a loop 4.3k -> 2.9k/s: a listing allocates some
// 20 KB, and the collector then shares the caller's processor) and walks
// of a big bus (marking its big heap: a warm walk of 1,000 devices takes
// 0.83 s on 2, 2.3 s on 1). Overlapping callers need every processor
// (8 uncached readers: ~7k/s on 2, ~5k/s on 1).
//
// So calls are counted in windows of 100 ms, and the window decides:
// one processor if at most dirShare of its calls were directory calls
// (lookups, listings), calls did not overlap, and the live heap is under
// bigHeap; every processor otherwise. Calls overlap when one starts while
// another is under way, or when callers take turns: on one processor,
// calls that never block (cached values) run one after the other even
// with many callers, so a call from a thread that called recently, but
// not last, counts too. A burst of overlap switches up before its window
// ends. Going back to one processor takes half the directory share and
// three quarters of the heap, so that a workload on a threshold does not
// flip every window.
//
// Each change stops the world for microseconds; there is at most one per
// window. The largest count is GOMAXPROCS at mount (Go's choice, from the
// CPUs and any container limit, which Go stops following once the count
// is set). Only Serve starts a governor, and not when GOMAXPROCS is in
// the environment; the count is restored at unmount.
type procGovernor struct {
	max    int           // GOMAXPROCS when calls overlap
	window time.Duration // how long calls are counted before a decision
	now    func() int64  // UnixNano; a fake in tests
	set    func(int)     // runtime.GOMAXPROCS; a fake in tests
	heap   func() uint64 // live heap bytes; a fake in tests
	log    *slog.Logger

	inflight   atomic.Int32
	recent     [recentCallers]atomic.Uint32 // threads that called lately, most recent at last
	last       atomic.Uint32                // index into recent of the last caller
	calls      atomic.Int64                 // calls started in the current window
	dirCalls   atomic.Int64                 // of which lookups and listings
	overlapped atomic.Int64                 // of which found another call under way
	since      atomic.Int64                 // start of the current window, UnixNano
	procs      atomic.Int32                 // GOMAXPROCS as last set

	mu      sync.Mutex // serialises decisions
	stopped bool       // by stop: no more decisions; guarded by mu
}

// Thresholds of the governor. A window in which at least overlapShare of
// the calls overlapped (and at least overlapMin of them) calls for every
// processor; overlapBurst overlapping calls at that share switch up before
// the window ends.
const (
	governorWindow = 100 * time.Millisecond
	overlapShare   = 0.05
	overlapMin     = 4
	overlapBurst   = 16
	dirShare       = 0.10
	bigHeap        = 16 << 20 // live bytes
	recentCallers  = 16
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

// enter marks the start of a call from thread pid, a lookup or listing
// if dir is set; leave must follow.
func (g *procGovernor) enter(dir bool, pid uint32) {
	g.calls.Add(1)
	if dir {
		g.dirCalls.Add(1)
	}
	if g.inflight.Add(1) > 1 || g.takesTurns(pid) {
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

// takesTurns records pid as the latest caller and reports whether it is
// a thread that called lately but not last: callers are interleaving. A
// shell loop starting cat after cat has a new thread each time; one
// process in a loop is the same thread. The record is lock-free and may
// miss under races, which only delays a decision.
func (g *procGovernor) takesTurns(pid uint32) bool {
	if pid == 0 {
		return false // the kernel's own
	}
	i := g.last.Load()
	if g.recent[i%recentCallers].Load() == pid {
		return false
	}
	seen := false
	for j := range g.recent {
		if g.recent[j].Load() == pid {
			seen = true
			break
		}
	}
	i++
	g.recent[i%recentCallers].Store(pid)
	g.last.Store(i)
	return seen
}

// stop puts GOMAXPROCS back to what it was when the governor started.
func (g *procGovernor) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if int(g.procs.Load()) != g.max {
		g.set(g.max)
		g.procs.Store(int32(g.max))
	}
	g.stopped = true
}

// decide ends the window (or, for a burst, the wait for its end) and sets
// GOMAXPROCS from what the window saw.
func (g *procGovernor) decide(now int64, burst bool) {
	if !g.mu.TryLock() {
		return // someone else is deciding
	}
	defer g.mu.Unlock()
	if g.stopped || !burst && now-g.since.Load() < int64(g.window) {
		return // another caller closed this window already
	}
	calls, dirCalls, overlapped := g.calls.Load(), g.dirCalls.Load(), g.overlapped.Load()
	g.calls.Store(0)
	g.dirCalls.Store(0)
	g.overlapped.Store(0)
	g.since.Store(now)

	// Thresholds for staying on every processor are lower than those for
	// going there (hysteresis).
	dirs, heap := dirShare, uint64(bigHeap)
	if g.procs.Load() > 1 {
		dirs, heap = dirShare/2, bigHeap/4*3
	}
	want, why := 1, "one caller, files"
	switch {
	case burst, overlapped >= overlapMin && float64(overlapped) >= overlapShare*float64(calls):
		want, why = g.max, "calls overlap"
	case float64(dirCalls) > dirs*float64(calls):
		want, why = g.max, "listings"
	case g.heap() >= heap:
		want, why = g.max, "big heap"
	}
	if int32(want) != g.procs.Load() {
		g.set(want)
		g.procs.Store(int32(want))
		g.log.Debug("GOMAXPROCS changed", "procs", want, "why", why, "calls", calls, "dir_calls", dirCalls, "overlapped", overlapped)
	}
}

// Procs returns the GOMAXPROCS the governor last set.
func (g *procGovernor) Procs() int { return int(g.procs.Load()) }

// governedFS counts the FUSE calls a caller waits for. Release, forget
// and interrupt are left out: the kernel sends them without anyone
// waiting, so they overlap the caller's next call harmlessly. (go-fuse
// sends writes to Writev, not Write.)
type governedFS struct {
	fuse.RawFileSystem
	g *procGovernor
}

func (f governedFS) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	f.g.enter(true, (h).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.Lookup(cancel, h, name, out)
}

func (f governedFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.GetAttr(cancel, in, out)
}

func (f governedFS) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.SetAttr(cancel, in, out)
}

func (f governedFS) Access(cancel <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.Access(cancel, in)
}

func (f governedFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.Open(cancel, in, out)
}

func (f governedFS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.Read(cancel, in, buf)
}

func (f governedFS) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.Writev(cancel, in, data)
}

func (f governedFS) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.Flush(cancel, in)
}

func (f governedFS) Fsync(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.Fsync(cancel, in)
}

func (f governedFS) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	f.g.enter(true, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.OpenDir(cancel, in, out)
}

func (f governedFS) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	f.g.enter(true, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.ReadDir(cancel, in, out)
}

func (f governedFS) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	f.g.enter(true, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.ReadDirPlus(cancel, in, out)
}

func (f governedFS) GetXAttr(cancel <-chan struct{}, h *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	f.g.enter(false, (h).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.GetXAttr(cancel, h, attr, dest)
}

func (f governedFS) ListXAttr(cancel <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	f.g.enter(false, (h).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.ListXAttr(cancel, h, dest)
}

func (f governedFS) StatFs(cancel <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	f.g.enter(false, (h).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.StatFs(cancel, h, out)
}

func (f governedFS) Statx(cancel <-chan struct{}, in *fuse.StatxIn, out *fuse.StatxOut) fuse.Status {
	f.g.enter(false, (&in.InHeader).Caller.Pid)
	defer f.g.leave()
	return f.RawFileSystem.Statx(cancel, in, out)
}
