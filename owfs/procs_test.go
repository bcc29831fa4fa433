package owfs

import (
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fakeGovernor is a governor for 4 processors on a clock the test moves,
// recording what it sets instead of changing GOMAXPROCS.
type fakeGovernor struct {
	*procGovernor
	clock int64
	sets  []int
	heap  uint64
}

func newFakeGovernor() *fakeGovernor {
	f := &fakeGovernor{heap: 1 << 20}
	f.procGovernor = newProcGovernor(4, slog.New(discard{}))
	f.now = func() int64 { return f.clock }
	f.set = func(n int) { f.sets = append(f.sets, n) }
	f.procGovernor.heap = func() uint64 { return f.heap }
	f.procs.Store(4)
	f.since.Store(0)
	return f
}

// callsPerWindow is how fast the fake callers call.
const callsPerWindow = 100

// tick moves the clock on by the time between two calls.
func (f *fakeGovernor) tick() { f.clock += int64(governorWindow) / callsPerWindow }

// call is one call from thread pid, after a tick.
func (f *fakeGovernor) call(dir bool, pid uint32) {
	f.tick()
	f.enter(dir, pid)
	f.leave()
}

// lone makes windows' worth of calls from one caller, one at a time, of
// which every dirEvery-th is a lookup or listing (0: none).
func (f *fakeGovernor) lone(windows, dirEvery int) {
	for i := 0; i < windows*callsPerWindow; i++ {
		f.call(dirEvery > 0 && i%dirEvery == 0, 100)
	}
}

func TestGovernorLoneFileCallerGetsOneProcessor(t *testing.T) {
	f := newFakeGovernor()
	f.lone(2, 0)
	if f.Procs() != 1 || len(f.sets) != 1 {
		t.Fatalf("procs %d, sets %v after reads from one caller; want one switch to 1", f.Procs(), f.sets)
	}
	f.lone(20, 50) // 2% lookups: still file work
	if f.Procs() != 1 || len(f.sets) != 1 {
		t.Fatalf("procs %d, sets %v with 2%% lookups; want 1 kept", f.Procs(), f.sets)
	}
}

func TestGovernorListingsGetEveryProcessor(t *testing.T) {
	f := newFakeGovernor()
	f.lone(2, 0)
	f.lone(3, 3) // ls -l in a loop: a third of the calls list
	if f.Procs() != 4 {
		t.Fatalf("procs %d, sets %v while listing; want 4", f.Procs(), f.sets)
	}
	f.lone(3, 0)
	if got := f.sets; f.Procs() != 1 || len(got) != 3 {
		t.Fatalf("procs %d, sets %v; want [1 4 1]", f.Procs(), got)
	}
}

func TestGovernorOverlapMeansEveryProcessor(t *testing.T) {
	f := newFakeGovernor()
	f.lone(2, 0)
	// 32 callers at once: the burst switches up without waiting for the
	// window to end.
	for i := 0; i < 32; i++ {
		f.enter(false, 100)
	}
	if f.Procs() != 4 {
		t.Fatalf("procs %d during a burst of 32 overlapping calls, want 4", f.Procs())
	}
	for i := 0; i < 32; i++ {
		f.leave()
	}
	// Sustained overlap holds 4.
	sets := len(f.sets)
	for i := 0; i < 3000; i++ {
		f.tick()
		f.enter(false, 100)
		f.enter(false, 100)
		f.leave()
		f.leave()
	}
	if f.Procs() != 4 || len(f.sets) != sets {
		t.Fatalf("procs %d, sets %v under overlap; want 4 and no change", f.Procs(), f.sets)
	}
	// Rare overlap (a release racing the next open is not counted, but an
	// odd second caller is) keeps one processor.
	f.lone(2, 0)
	for i := 0; i < 1000; i++ {
		f.tick()
		f.enter(false, 100)
		if i%100 == 0 {
			f.enter(false, 100)
			f.leave()
		}
		f.leave()
	}
	if f.Procs() != 1 {
		t.Fatalf("procs %d with 1%% overlap, want 1 (sets %v)", f.Procs(), f.sets)
	}
}

func TestGovernorBigHeapMeansEveryProcessor(t *testing.T) {
	f := newFakeGovernor()
	f.lone(2, 0)
	f.heap = 64 << 20
	f.lone(2, 0)
	if f.Procs() != 4 {
		t.Fatalf("procs %d with a big heap, want 4 (sets %v)", f.Procs(), f.sets)
	}
}

// TestGovernorConcurrentCalls runs enter/leave from many goroutines under
// -race, with the real clock and a recording setter.
func TestGovernorConcurrentCalls(t *testing.T) {
	g := newProcGovernor(4, slog.New(discard{}))
	var mu sync.Mutex
	var sets []int
	g.set = func(n int) { mu.Lock(); sets = append(sets, n); mu.Unlock() }
	g.window = time.Millisecond
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 2000; j++ {
				g.enter(j%7 == 0, uint32(100+j%3))
				g.leave()
			}
		}()
	}
	wg.Wait()
	if n := g.inflight.Load(); n != 0 {
		t.Fatalf("%d calls in flight after all left", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, n := range sets {
		if n != 1 && n != 4 {
			t.Fatalf("set GOMAXPROCS %d, want only 1 or 4: %v", n, sets)
		}
	}
}

// TestGovernorCallersTakingTurns: on one processor, calls that never
// block run one after another even with eight callers; their threads
// taking turns is overlap all the same.
func TestGovernorCallersTakingTurns(t *testing.T) {
	f := newFakeGovernor()
	f.lone(2, 0)
	if f.Procs() != 1 {
		t.Fatalf("procs %d, want 1 before the callers come", f.Procs())
	}
	for i := 0; i < 300; i++ {
		f.call(false, uint32(200+i%8)) // eight threads, in turn, never nested
	}
	if f.Procs() != 4 {
		t.Fatalf("procs %d with eight callers taking turns, want 4 (sets %v)", f.Procs(), f.sets)
	}
	// A shell loop: a new process for every cat, each making three calls.
	f.lone(1, 0)
	for i := 0; i < 300; i++ {
		f.call(false, uint32(1000+i/3))
	}
	if f.Procs() != 1 {
		t.Fatalf("procs %d for cat after cat, want 1 (sets %v)", f.Procs(), f.sets)
	}
}

// TestGovernorHysteresis: a share of listings between the two thresholds
// keeps whatever was chosen.
func TestGovernorHysteresis(t *testing.T) {
	f := newFakeGovernor()
	f.lone(2, 0)
	f.lone(5, 14) // 7% listings: not enough to leave one processor
	if f.Procs() != 1 {
		t.Fatalf("procs %d at 7%% listings from 1, want 1 (sets %v)", f.Procs(), f.sets)
	}
	f.lone(2, 3)  // a third: every processor
	f.lone(5, 14) // 7% again: not few enough to go back
	if f.Procs() != 4 {
		t.Fatalf("procs %d at 7%% listings from 4, want 4 (sets %v)", f.Procs(), f.sets)
	}
	f.heap = 14 << 20 // between 3/4 of bigHeap and bigHeap
	f.lone(3, 0)
	if f.Procs() != 4 {
		t.Fatalf("procs %d with 14 MiB live from 4, want 4 (sets %v)", f.Procs(), f.sets)
	}
	f.heap = 1 << 20
	f.lone(2, 0)
	if f.Procs() != 1 {
		t.Fatalf("procs %d with file calls and a small heap, want 1 (sets %v)", f.Procs(), f.sets)
	}
}

func TestGovernorStopRestores(t *testing.T) {
	f := newFakeGovernor()
	f.lone(2, 0)
	if f.Procs() != 1 {
		t.Fatalf("procs %d, want 1", f.Procs())
	}
	f.stop()
	if f.Procs() != 4 || f.sets[len(f.sets)-1] != 4 {
		t.Fatalf("procs %d, sets %v after stop; want 4 restored", f.Procs(), f.sets)
	}
	f.lone(3, 0)
	if f.Procs() != 4 {
		t.Fatalf("procs %d after stop and more calls, want 4: no decisions after stop", f.Procs())
	}
}
