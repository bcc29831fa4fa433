package owfs

import (
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fakeGovernor returns a governor for 4 processors, on a clock the test
// moves, that records what it sets instead of changing GOMAXPROCS.
func fakeGovernor() (g *procGovernor, clock *int64, sets *[]int) {
	g = newProcGovernor(4, slog.New(discard{}))
	clock, sets = new(int64), new([]int)
	g.now = func() int64 { return *clock }
	g.set = func(n int) { *sets = append(*sets, n) }
	g.heap = func() uint64 { return 1 << 20 }
	g.procs.Store(4)
	g.since.Store(0)
	return g, clock, sets
}

func TestGovernorOneCallerRunsOnOneProcessor(t *testing.T) {
	g, clock, sets := fakeGovernor()
	for i := 0; i < 5000; i++ { // a lone caller: one call at a time
		*clock += int64(50 * time.Microsecond)
		g.enter()
		g.leave()
	}
	if g.Procs() != 1 || len(*sets) != 1 || (*sets)[0] != 1 {
		t.Fatalf("procs %d, sets %v; want one switch to 1", g.Procs(), *sets)
	}
	// A release overlapping the next call is not counted (governedFS
	// does not wrap it), so occasional overlap below the share keeps 1.
	for i := 0; i < 5000; i++ {
		*clock += int64(50 * time.Microsecond)
		g.enter()
		if i%100 == 0 {
			g.enter()
			g.leave()
		}
		g.leave()
	}
	if g.Procs() != 1 || len(*sets) != 1 {
		t.Fatalf("procs %d, sets %v after rare overlap; want 1 and no further switch", g.Procs(), *sets)
	}
}

func TestGovernorOverlapSwitchesUpAtOnce(t *testing.T) {
	g, clock, sets := fakeGovernor()
	*clock = int64(time.Second)
	g.enter() // a window with one call: down to 1
	g.leave()
	if g.Procs() != 1 {
		t.Fatalf("procs %d after a quiet window, want 1", g.Procs())
	}
	// 32 callers at once, within the same instant: the burst switches up
	// without waiting for the window to end.
	for i := 0; i < 32; i++ {
		g.enter()
	}
	if g.Procs() != 4 {
		t.Fatalf("procs %d during a burst of 32 overlapping calls, want 4", g.Procs())
	}
	for i := 0; i < 32; i++ {
		g.leave()
	}
	// Sustained overlap keeps every processor across windows.
	for w := 0; w < 5; w++ {
		for i := 0; i < 100; i++ {
			*clock += int64(2 * time.Millisecond)
			g.enter()
			g.enter()
			g.leave()
			g.leave()
		}
	}
	if got := *sets; g.Procs() != 4 || len(got) != 2 || got[0] != 1 || got[1] != 4 {
		t.Fatalf("procs %d, sets %v; want [1 4] and 4 kept", g.Procs(), got)
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
				g.enter()
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
