// Command fsbench measures owfuse side by side with OWFS's own FUSE client
// (owfs) and with a FUSE ceiling (a go-fuse filesystem serving a constant
// file, mounted with owfuse's kernel options and open flags, run as a
// child process: fsbench re-executes itself in a hidden "ceiling" mode),
// all against real owservers on loopback. `make bench` runs it; it needs
// root, /dev/fuse, owserver and owfs (package owfs-fuse), and python3 for
// the Python readers.
//
//	go run ./integration/fsbench [-rounds 10] [-round 500ms] [-out DIR]
//
// It writes results.md to -out (bin/bench in the module by default, never
// a tracked file) and prints it.
//
// Every workload runs -rounds short rounds; in each round every filesystem
// runs it once, in an order rotated by one each round, so that no
// filesystem always goes first or last. The tables show medians with the
// range (min–max) over the rounds; a ratio is taken per round, between
// runs a few hundred milliseconds apart, and shown the same way.
//
// Workloads:
//   - reads of a DS18S20's temperature, cached and under uncached/: open,
//     read, close, as one read(2) per open and as reads until EOF (what
//     cat, os.ReadFile and Python's read() do), from Go in fsbench itself
//     and from a Python program, in 1 and 8 threads;
//   - ls -l of a device (list, then lstat every entry), warm;
//   - a write of 10.…/temphigh;
//   - fan-in: -fanin readers of one temperature at once, just after its
//     cached value expired;
//   - tree walks of a 1,000-device bus (ten fake owservers behind one):
//     lstat of every entry under every device, cold on a fresh mount of a
//     fresh bus, then warm, once per filesystem, given up after -walk-cap
//     (-warm-cap) with the whole walk's time estimated.
//
// The timed rounds talk to owserver directly. The owserver messages per
// operation come from a separate counting pass: the same workloads, one
// round each, on a second mount of each client that reaches owserver
// through a counting relay; the tree walks go through one too. CPU time
// per operation, of each FUSE daemon and of the owserver behind it, comes
// from /proc/PID/stat around every timed round; memory from
// /proc/PID/status. Every mount and process is taken down on every exit
// path, Ctrl-C included.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	round   time.Duration
	rounds  int
	fanin   int
	walkCap time.Duration
	warmCap time.Duration
	owfsBin string
	outDir  string
	walk    bool
	small   bool
	python  bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == ceilingMode {
		os.Exit(ceilingMain(os.Args[2:]))
	}
	os.Exit(run())
}

func run() (code int) {
	var cfg config
	flag.DurationVar(&cfg.round, "round", 500*time.Millisecond, "duration of each timed round")
	flag.IntVar(&cfg.rounds, "rounds", 10, "rounds per workload and filesystem")
	flag.IntVar(&cfg.fanin, "fanin", 32, "readers at once in a fan-in burst")
	flag.DurationVar(&cfg.walkCap, "walk-cap", 50*time.Second, "give up a cold tree walk after this long (reported with an estimate)")
	flag.DurationVar(&cfg.warmCap, "warm-cap", 20*time.Second, "give up a warm tree walk after this long")
	flag.StringVar(&cfg.owfsBin, "owfs", "/usr/bin/owfs", "OWFS's FUSE client (apt-get install owfs-fuse)")
	flag.StringVar(&cfg.outDir, "out", "", "where to write results.md (default: bin/bench in the module)")
	flag.BoolVar(&cfg.walk, "walk", true, "run the 1,000-device tree walks")
	flag.BoolVar(&cfg.small, "small", true, "run the workloads on the small bus (all but the tree walks)")
	flag.BoolVar(&cfg.python, "python", true, "run the Python readers too")
	flag.Parse()
	if cfg.rounds < 1 || cfg.round <= 0 || cfg.fanin < 1 {
		fmt.Fprintln(os.Stderr, "fsbench: -rounds, -round and -fanin must be positive")
		return 2
	}

	// Every exit path cleans up: this defer on return and panic in this
	// goroutine, goSafe in the others, the handler below on signals.
	defer cleanupAll()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		signaled.Store(true)
		fmt.Fprintf(os.Stderr, "\nfsbench: %v: unmounting and stopping everything\n", s)
		cleanupAll()
		os.Exit(130)
	}()

	err := bench(cfg)
	if signaled.Load() {
		select {} // the handler cleans up and exits
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsbench:", err)
		return 1
	}
	return 0
}

// signaled is set when a signal stops the run.
var signaled atomic.Bool

func bench(cfg config) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (FUSE mounts with mount(2))")
	}
	if _, err := exec.LookPath("owserver"); err != nil {
		return errors.New("owserver is not installed (apt-get install owserver)")
	}
	if _, err := os.Stat(cfg.owfsBin); err != nil {
		return fmt.Errorf("OWFS's owfs, the reference, is not at %s (apt-get install owfs-fuse, or -owfs PATH)", cfg.owfsBin)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return errors.New("no /dev/fuse")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if cfg.outDir == "" {
		cfg.outDir = filepath.Join(root, "bin", "bench")
	}
	tmp, err := os.MkdirTemp("", "fsbench-")
	if err != nil {
		return err
	}
	atExit("remove "+tmp, func() { os.RemoveAll(tmp) })

	res := newResults(cfg)
	res.machine = machineState()
	fmt.Fprintf(os.Stderr, "fsbench: %s\n", res.machine)
	cpu0 := readCPU()

	bin := filepath.Join(tmp, "owfuse")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build owfuse: %v\n%s", err, out)
	}
	if out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output(); err == nil {
		res.version = strings.TrimSpace(string(out))
	}
	b := &bencher{cfg: cfg, tmp: tmp, bin: bin, res: res}
	if cfg.python {
		if b.python = findPython(); b.python == "" {
			res.notes = append(res.notes, "no python3: the Python readers were skipped")
		}
	}
	if cfg.small {
		if err := b.smallBus(); err != nil {
			return err
		}
	}
	if cfg.walk {
		if err := b.walks(); err != nil {
			return err
		}
	}
	if signaled.Load() {
		return errors.New("interrupted")
	}
	res.machine += "; at the end: " + loadavg() + "; " + othersShare(cpu0)
	return res.write(cfg.outDir)
}

type bencher struct {
	cfg    config
	tmp    string
	bin    string
	python string
	res    *results
}

// mountSet is one mount per filesystem compared.
type mountSet struct {
	owfuse, owfs, ceiling *mount
	server                int // pid of their owserver
}

// smallBus runs every workload but the tree walks against `owserver
// --fake 10,28`: timed on direct mounts of owfuse, owfs and the ceiling,
// then counted on relayed mounts of owfuse and owfs.
func (b *bencher) smallBus() error {
	srv, err := startOwserver(b.tmp, "--fake", "10,28")
	if err != nil {
		return err
	}
	defer srv.stop()
	direct := mountSet{server: srv.pid}
	if direct.owfuse, err = mountOwfuse(b.tmp, b.bin, srv.addr); err != nil {
		return err
	}
	defer direct.owfuse.close()
	b.res.memory("owfuse, idle after mount", direct.owfuse.pid())
	if direct.owfs, err = mountOwfs(b.tmp, b.cfg.owfsBin, srv.addr); err != nil {
		return err
	}
	defer direct.owfs.close()
	b.res.memory("owfs, idle after mount", direct.owfs.pid())
	if direct.ceiling, err = mountCeiling(b.tmp); err != nil {
		return err
	}
	defer direct.ceiling.close()

	counted := mountSet{server: srv.pid}
	relays := map[string]*relay{}
	for _, kind := range []string{"owfuse", "owfs"} {
		r, err := startRelay(srv.addr)
		if err != nil {
			return err
		}
		defer r.close()
		relays[kind] = r
	}
	if counted.owfuse, err = mountOwfuse(b.tmp, b.bin, relays["owfuse"].Addr); err != nil {
		return err
	}
	defer counted.owfuse.close()
	if counted.owfs, err = mountOwfs(b.tmp, b.cfg.owfsBin, relays["owfs"].Addr); err != nil {
		return err
	}
	defer counted.owfs.close()

	dev10, dev28, err := firstDevices(direct.owfuse.dir)
	if err != nil {
		return err
	}
	timed := b.workloads(direct, dev10, dev28)
	for round := 0; round < b.cfg.rounds && !signaled.Load(); round++ {
		fmt.Fprintf(os.Stderr, "fsbench: round %d of %d\n", round+1, b.cfg.rounds)
		for _, w := range timed {
			for _, t := range rotate(w.targets, round) {
				b.res.timed(w, t, b.cfg.round)
			}
		}
	}
	// Long enough for a cached value to expire and be read again: the
	// messages of cached reads are one per value lifetime, not none.
	countFor := max(b.cfg.round, 2*volatileLifetime+200*time.Millisecond)
	fmt.Fprintf(os.Stderr, "fsbench: counting owserver messages (%v per workload)\n", countFor)
	for _, w := range b.workloads(counted, dev10, dev28) {
		for _, t := range w.targets {
			if r := relays[t.fs]; r != nil {
				b.res.counted(w, t, r, countFor)
			}
		}
	}
	return nil
}

// firstDevices are the first DS18S20 (family 10) and DS18B20 (28) that
// dir, an owfuse mount, lists.
func firstDevices(dir string) (dev10, dev28 string, err error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return "", "", err
	}
	for _, de := range des {
		switch {
		case dev10 == "" && strings.HasPrefix(de.Name(), "10."):
			dev10 = de.Name()
		case dev28 == "" && strings.HasPrefix(de.Name(), "28."):
			dev28 = de.Name()
		}
	}
	if dev10 == "" || dev28 == "" {
		return "", "", fmt.Errorf("owserver --fake 10,28 listed %d entries without a 10. and a 28. device", len(des))
	}
	return dev10, dev28, nil
}

// rotate is ts starting at its (round mod len)th element.
func rotate[T any](ts []T, round int) []T {
	if len(ts) == 0 {
		return ts
	}
	k := round % len(ts)
	return append(append([]T(nil), ts[k:]...), ts[:k]...)
}

// owfuse's default volatile_ttl and dir_ttl.
const (
	volatileLifetime = time.Second
	dirLifetime      = 10 * time.Second
)

// workloads are the small bus's workloads on the mounts of ms.
func (b *bencher) workloads(ms mountSet, dev10, dev28 string) []*workload {
	on := func(rel string, withCeiling bool) []target {
		ts := []target{
			{fs: "owfuse", path: filepath.Join(ms.owfuse.dir, rel), pid: ms.owfuse.pid(), server: ms.server},
			{fs: "owfs", path: filepath.Join(ms.owfs.dir, rel), pid: ms.owfs.pid(), server: ms.server},
		}
		if withCeiling && ms.ceiling != nil {
			ts = append(ts, target{fs: "ceiling", path: filepath.Join(ms.ceiling.dir, ceilingFile), pid: ms.ceiling.pid()})
		}
		return ts
	}
	warmRead := func(t target) { readToEOF.read(t.path, make([]byte, 4096)) }
	var ws []*workload
	for _, cached := range []bool{true, false} {
		rel, kind := filepath.Join(dev10, "temperature"), "cached"
		if !cached {
			rel, kind = filepath.Join("uncached", dev10, "temperature"), "uncached"
		}
		for _, threads := range []int{1, 8} {
			for _, p := range []pattern{readOne, readToEOF} {
				ws = append(ws, &workload{
					name:    fmt.Sprintf("%s read, %s, Go, %s", kind, p.name, threadsName(threads)),
					targets: on(rel, cached),
					warm:    warmRead,
					run: func(t target, d time.Duration) loopResult {
						return loop(threads, d, func(buf []byte) error { return p.read(t.path, buf) })
					},
				})
			}
			if b.python != "" {
				ws = append(ws, &workload{
					name:    fmt.Sprintf("%s read, %s, Python, %s", kind, readToEOF.name, threadsName(threads)),
					targets: on(rel, cached),
					warm:    warmRead,
					run: func(t target, d time.Duration) loopResult {
						return pythonLoop(b.python, t.path, threads, d)
					},
				})
			}
		}
	}
	ws = append(ws, &workload{
		name:    "ls -l of a device, warm",
		targets: on(dev10, false),
		warm:    func(t target) { listLong(t.path) },
		run: func(t target, d time.Duration) loopResult {
			return loop(1, d, func([]byte) error { return listLong(t.path) })
		},
	})
	write := func(t target) error { return os.WriteFile(t.path, []byte("25\n"), 0o644) }
	ws = append(ws, &workload{
		name:    "write of temphigh",
		targets: on(filepath.Join(dev10, "temphigh"), false),
		warm:    func(t target) { write(t) }, // the lookup and structure line
		run: func(t target, d time.Duration) loopResult {
			return loop(1, d, func([]byte) error { return write(t) })
		},
	})
	ws = append(ws, &workload{
		name:    fmt.Sprintf("fan-in, %d readers at once", b.cfg.fanin),
		burst:   true,
		targets: on(filepath.Join(dev28, "temperature"), true),
		// The names are looked up and the value read; then owfuse's
		// value goes stale, and owfs is given the same pause.
		warm: func(t target) {
			warmRead(t)
			if t.fs != "ceiling" {
				time.Sleep(volatileLifetime + 100*time.Millisecond)
			}
		},
		run: func(t target, d time.Duration) loopResult {
			took, errs, err := burst(b.cfg.fanin, func(buf []byte) error { return readToEOF.read(t.path, buf) })
			return loopResult{ops: int64(b.cfg.fanin - errs), errs: int64(errs), elapsed: took, firstErr: err}
		},
	})
	return ws
}

func threadsName(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// walks runs the tree walk on owfuse, then owfs, each on a fresh big bus
// (so that no owserver cache is warm), through a counting relay, on a
// fresh mount: cold, then warm at once on the same mount. owfs's warm
// walk is skipped when its cold one was given up on (it would be as long
// again).
func (b *bencher) walks() error {
	for _, kind := range []string{"owfuse", "owfs"} {
		if signaled.Load() {
			return nil
		}
		fmt.Fprintf(os.Stderr, "fsbench: tree walk on %s\n", kind)
		bus, err := startBigBus(b.tmp)
		if err != nil {
			return err
		}
		r, err := startRelay(bus.addr)
		if err != nil {
			bus.close()
			return err
		}
		var m *mount
		if kind == "owfuse" {
			m, err = mountOwfuse(b.tmp, b.bin, r.Addr)
		} else {
			m, err = mountOwfs(b.tmp, b.cfg.owfsBin, r.Addr)
		}
		if err != nil {
			r.close()
			bus.close()
			return err
		}
		r.take() // the mount's own messages
		cold := b.res.walk("cold", kind, treeWalk(m.dir, b.cfg.walkCap), r.take(), b.cfg.walkCap)
		b.res.memory(kind+", after the cold walk", m.pid())
		if kind == "owfs" && cold.capped {
			b.res.notes = append(b.res.notes, "owfs's warm walk was skipped: its cold walk was given up on")
		} else {
			b.res.walk("warm", kind, treeWalk(m.dir, b.cfg.warmCap), r.take(), b.cfg.warmCap)
		}
		b.res.memory(kind+", after the cold and warm walks", m.pid())
		if kind == "owfuse" && cold.elapsed > dirLifetime {
			b.res.notes = append(b.res.notes, fmt.Sprintf("owfuse keeps listings %v (dir_ttl) and its cold walk took %.0f s: little of it was still cached for the warm walk", dirLifetime, cold.elapsed.Seconds()))
		}
		m.close()
		r.close()
		bus.close()
	}
	return nil
}

// repoRoot is the directory of the go.mod this program belongs to.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// cpuTimes are the machine's busy and total CPU time (from /proc/stat)
// and this process's and its reaped children's (from getrusage).
type cpuTimes struct {
	busy, total, ours time.Duration
}

func readCPU() cpuTimes {
	var t cpuTimes
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
		for i, f := range strings.Fields(line)[1:] {
			var v int64
			fmt.Sscan(f, &v)
			if i >= 8 { // guest times are counted in user already
				break
			}
			t.total += time.Duration(v) * tick
			if i != 3 && i != 4 { // idle, iowait
				t.busy += time.Duration(v) * tick
			}
		}
	}
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			t.ours += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return t
}

// machineState says how busy the machine was just before the run: the
// share of CPU time used over half a second, and the load average.
func machineState() string {
	t0 := readCPU()
	time.Sleep(500 * time.Millisecond)
	t1 := readCPU()
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if t1.total > t0.total {
		s += fmt.Sprintf(", %.0f%% busy just before the run", 100*float64(t1.busy-t0.busy)/float64(t1.total-t0.total))
	}
	return s + ", " + loadavg()
}

// othersShare is the share of the machine's CPU time that other processes
// (not fsbench, nor the servers it started and reaped) used since start.
func othersShare(start cpuTimes) string {
	end := readCPU()
	if end.total <= start.total {
		return ""
	}
	others := (end.busy - start.busy) - (end.ours - start.ours)
	return fmt.Sprintf("other processes used ~%.0f%% of the CPUs during the run", 100*max(0, float64(others)/float64(end.total-start.total)))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load average unknown"
	}
	return "load average " + strings.Join(f[:3], " ")
}
