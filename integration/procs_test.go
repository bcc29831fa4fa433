package integration

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// mountWithMetrics mounts a --tester owserver with --metrics-listen and
// returns the path of a temperature and the metrics address. The daemon
// gets GOMAXPROCS=procs in its environment, or none if procs is "".
func mountWithMetrics(t *testing.T, procs string) (temp, metricsAddr string) {
	t.Helper()
	requireFUSE(t)
	t.Setenv("GOMAXPROCS", procs) // inherited by owfuse; "" counts as unset
	addr := owtest.StartOwserver(t, "--tester", "10").Addr
	port, err := owtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	mnt := t.TempDir()
	startMount(t, addr, mnt, "--metrics-listen", metricsAddr)
	return filepath.Join(mnt, tester10, "temperature"), metricsAddr
}

func gomaxprocs(t *testing.T, metricsAddr string) int {
	t.Helper()
	v, ok := daemonMetric(daemonScrape(t, metricsAddr), "go_sched_gomaxprocs_threads", nil)
	if !ok {
		t.Fatal("go_sched_gomaxprocs_threads missing from the daemon's metrics")
	}
	return int(v)
}

// readFile is cat's open+read+close.
func readFile(p string) error {
	_, err := os.ReadFile(p)
	return err
}

// listLong is what ls -l does to the filesystem: list, then lstat each
// entry; from one long-lived process (a monitoring daemon, fsbench's
// `ls -l` workload, which this copies). The real ls in a shell loop is
// bound by fork and exec (~370/s on one processor or two), so the
// processor count does not matter to it.
func listLong(dir string) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range des {
		if _, err := os.Lstat(filepath.Join(dir, de.Name())); err != nil {
			return err
		}
	}
	return nil
}

// opUntil runs op(path) in a loop from threads goroutines until the
// daemon's GOMAXPROCS is want or limit passes. It returns the ops done.
func opUntil(t *testing.T, op func(string) error, path, metricsAddr string, threads, want int, limit time.Duration) int64 {
	t.Helper()
	var (
		stop  atomic.Bool
		reads atomic.Int64
		wg    sync.WaitGroup
	)
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if err := op(path); err != nil {
					t.Errorf("%s: %v", path, err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	deadline := time.Now().Add(limit)
	for {
		got := gomaxprocs(t, metricsAddr)
		if got == want {
			return reads.Load()
		}
		if time.Now().After(deadline) || t.Failed() {
			t.Fatalf("%d caller(s): GOMAXPROCS still %d after %v and %d operations, want %d", threads, got, limit, reads.Load(), want)
		}
		time.Sleep(50 * time.Millisecond) // scrape interval while the readers run
	}
}

// TestProcsFollowCallers: the daemon runs on one processor while one
// process reads, on all of them while eight read at once or one lists a
// directory in a loop, and back.
func TestProcsFollowCallers(t *testing.T) {
	temp, metricsAddr := mountWithMetrics(t, "")
	all := gomaxprocs(t, metricsAddr) // before any call: Go's own choice
	if all < 2 {
		t.Skipf("GOMAXPROCS is %d on this machine: nothing to govern", all)
	}
	const limit = 10 * time.Second
	n := opUntil(t, readFile, temp, metricsAddr, 1, 1, limit)
	t.Logf("one reader: GOMAXPROCS %d -> 1 after %d reads", all, n)
	n = opUntil(t, readFile, temp, metricsAddr, 8, all, limit)
	t.Logf("eight readers: GOMAXPROCS 1 -> %d after %d reads", all, n)
	n = opUntil(t, readFile, temp, metricsAddr, 1, 1, limit)
	t.Logf("one reader again: GOMAXPROCS -> 1 after %d reads", n)
	n = opUntil(t, listLong, filepath.Dir(temp), metricsAddr, 1, all, limit)
	t.Logf("one ls -l in a loop: GOMAXPROCS 1 -> %d after %d listings", all, n)
}

// TestProcsFromEnvironmentAreKept: GOMAXPROCS in the environment turns
// the governor off.
func TestProcsFromEnvironmentAreKept(t *testing.T) {
	temp, metricsAddr := mountWithMetrics(t, "2")
	// Sequential reads over a second: ten windows in which the governor,
	// were it on, would switch to 1.
	for start := time.Now(); time.Since(start) < time.Second; {
		if _, err := os.ReadFile(temp); err != nil {
			t.Fatal(err)
		}
	}
	if got := gomaxprocs(t, metricsAddr); got != 2 {
		t.Fatalf("GOMAXPROCS %d after a second of sequential reads with GOMAXPROCS=2 in the environment, want 2", got)
	}
}
