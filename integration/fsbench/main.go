// Command fsbench measures owfuse side by side with OWFS's own FUSE client
// (owfs) and with a FUSE ceiling (a tiny go-fuse filesystem serving a
// constant 12-byte file, run as a child process: fsbench re-executes
// itself in a hidden "ceiling" mode), all against real owservers on
// loopback, and prints one table and the speed targets of issue 6
// (reported, never asserted). It writes the table to results.md and a
// chart of the ratios to results.svg next to this file. `make bench` runs
// it after the owclient benchmark; it needs root, /dev/fuse and owserver.
//
//	go run ./integration/fsbench [-round 1s] [-rounds 3]
//
// The ceiling serves three variants of its file: (a) FOPEN_DIRECT_IO,
// size 0; (b) DIRECT_IO|FOPEN_NOFLUSH, size 0, what owfuse does for
// read-only properties, hence the one compared with; (c) the page cache,
// FOPEN_KEEP_CACHE|FOPEN_NOFLUSH with the exact size.
//
// Workloads, each run on each filesystem in turn, medians of -rounds
// rounds of -round each:
//
//   - cached read: open + read (4 KiB buffer) until EOF + close of one
//     device's temperature, 1 and 8 goroutines;
//   - uncached read: the same under uncached/;
//   - tree walk: lstat of every entry under each of the 1,000 device
//     directories of a big bus (ten fake owservers behind one), cold on a
//     fresh mount of a fresh bus, then warm on the same mount; once per
//     filesystem, given up after -walk-cap (-warm-cap) with the whole
//     walk's time estimated from the devices done;
//   - ls -l of one device (list + lstat of each entry), after a warm-up;
//   - write of settings/timeout/volatile (its current value, written back);
//   - fan-in: 32 goroutines reading one property at once, after its
//     cached value expired.
//
// owfuse's owserver messages come from its --metrics-listen endpoint, its
// peak RSS from /proc/PID/status. Every mount and process is taken down on
// every exit path, Ctrl-C included.
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
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type config struct {
	round       time.Duration
	rounds      int
	faninRounds int
	fanin       int
	walkCap     time.Duration
	warmCap     time.Duration
	owfsBin     string
	outDir      string
	walk        bool
	walkOn      string
	small       bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == ceilingMode {
		os.Exit(ceilingMain(os.Args[2:]))
	}
	os.Exit(run())
}

func run() (code int) {
	var cfg config
	flag.DurationVar(&cfg.round, "round", time.Second, "duration of each timed round")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds per workload and filesystem (the table shows medians)")
	flag.IntVar(&cfg.faninRounds, "fanin-rounds", 5, "fan-in bursts")
	flag.IntVar(&cfg.fanin, "fanin", 32, "goroutines per fan-in burst")
	flag.DurationVar(&cfg.walkCap, "walk-cap", 50*time.Second, "give up a cold tree walk after this long (reported as >cap, with an estimate)")
	flag.DurationVar(&cfg.warmCap, "warm-cap", 20*time.Second, "give up a warm tree walk after this long")
	flag.StringVar(&cfg.owfsBin, "owfs", "/usr/libexec/owfs/owfs", "OWFS's FUSE client; skipped with a note when absent")
	flag.StringVar(&cfg.outDir, "out", "", "where to write results.md and results.svg (default: integration/fsbench in the module)")
	flag.BoolVar(&cfg.walk, "walk", true, "run the 1,000-device tree walks")
	flag.StringVar(&cfg.walkOn, "walk-on", "owfuse,owfs", "filesystems to run the tree walks on")
	flag.BoolVar(&cfg.small, "small", true, "run the workloads on the small bus (all but the tree walks)")
	flag.Parse()

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
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return errors.New("no /dev/fuse")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if cfg.outDir == "" {
		cfg.outDir = filepath.Join(root, "integration", "fsbench")
	}
	tmp, err := os.MkdirTemp("", "fsbench-")
	if err != nil {
		return err
	}
	atExit("remove "+tmp, func() { os.RemoveAll(tmp) })

	env := machineState()
	fmt.Fprintf(os.Stderr, "fsbench: %s\n", env)
	cpu0 := readCPU()

	bin := filepath.Join(tmp, "owfuse")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build owfuse: %v\n%s", err, out)
	}

	b := &bencher{cfg: cfg, tmp: tmp, bin: bin, res: map[string]*result{}}
	if _, err := os.Stat(cfg.owfsBin); err != nil {
		b.noOwfs = fmt.Sprintf("owfs skipped: %s is absent", cfg.owfsBin)
		fmt.Fprintln(os.Stderr, "fsbench:", b.noOwfs)
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
	env += "; at the end: " + loadavg() + "; " + othersShare(cpu0)
	if signaled.Load() {
		return errors.New("interrupted")
	}
	return b.report(env)
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

// result collects one workload's measurements, per filesystem.
type result struct {
	name    string
	samples map[string][]float64 // filesystem → one value per round
	msgs    msgCounts            // owfuse's owserver messages during its runs
	procs   []int                // owfuse's GOMAXPROCS at the end of each run
	ops     int64                // owfuse's operations during those runs
	errs    map[string]string    // filesystem → its first error
	nerrs   map[string]int64     // filesystem → how many errors
	notes   []string
	capped  map[string]bool    // filesystem → the walk gave up at its cap
	est     map[string]float64 // filesystem → whole-walk estimate when capped
}

func (b *bencher) result(name string) *result {
	r := b.res[name]
	if r == nil {
		r = &result{name: name, samples: map[string][]float64{}, msgs: msgCounts{}, errs: map[string]string{}, nerrs: map[string]int64{}, capped: map[string]bool{}, est: map[string]float64{}}
		b.res[name] = r
	}
	return r
}

func (r *result) add(fsName string, v float64) { r.samples[fsName] = append(r.samples[fsName], v) }

func (r *result) median(fsName string) (float64, bool) {
	v := slices.Clone(r.samples[fsName])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2, true
	}
	return v[len(v)/2], true
}

// fail counts n errors on fsName; err is one of them.
func (r *result) fail(fsName string, n int64, err error) {
	if n == 0 || err == nil {
		return
	}
	r.nerrs[fsName] += n
	if _, seen := r.errs[fsName]; !seen {
		r.errs[fsName] = err.Error()
	}
}

type bencher struct {
	cfg      config
	tmp      string
	bin      string
	noOwfs   string
	res      map[string]*result
	rss      int64   // owfuse's peak RSS after the 1,000-device walk
	faninMax float64 // owfuse's most owserver messages in one fan-in burst
	// rssPartial says why rss is not after a whole walk, if it is not.
	rssPartial string
	walkOK     bool
}

// target is one filesystem's file or directory for a workload.
type target struct {
	fs   string // owfuse, owfs, ceiling-a…
	path string
	m    *mount
}

// timed runs op on each target in turn, once per round, and records ops/s.
func (b *bencher) timed(name string, threads int, targets []target, warm func(t target), op func(t target) func([]byte) error) {
	r := b.result(name)
	fmt.Fprintf(os.Stderr, "fsbench: %s\n", name)
	for round := 0; round < b.cfg.rounds; round++ {
		for _, t := range targets {
			if warm != nil {
				warm(t)
			}
			var before msgCounts
			if t.fs == "owfuse" {
				before, _ = t.m.messages()
			}
			lr := loop(threads, b.cfg.round, op(t))
			if t.fs == "owfuse" {
				if after, procs, err := t.m.scrape(); err == nil && before != nil {
					r.procs = append(r.procs, procs)
					r.msgs.add(after.sub(before))
				}
				r.ops += lr.ops
			}
			r.add(t.fs, lr.rate())
			r.fail(t.fs, lr.errs, lr.firstErr)
		}
	}
}

func readOp(t target) func([]byte) error {
	return func(buf []byte) error { return readOnce(t.path, buf) }
}

// smallBus runs every workload but the tree walk against `owserver --fake
// 10,28`, mounted by owfuse, owfs and the ceiling at once.
func (b *bencher) smallBus() error {
	addr, stopServer, err := startOwserver(b.tmp, "--fake", "10,28")
	if err != nil {
		return err
	}
	defer stopServer()
	fuse, err := mountOwfuse(b.tmp, b.bin, addr)
	if err != nil {
		return err
	}
	defer fuse.close()
	var owfs *mount
	if b.noOwfs == "" {
		if owfs, err = mountOwfs(b.tmp, b.cfg.owfsBin, addr); err != nil {
			return err
		}
		defer owfs.close()
	}
	ceil, err := mountCeiling(b.tmp)
	if err != nil {
		return err
	}
	defer ceil.close()

	// The devices: the first of family 10 (cached and uncached reads, ls
	// -l) and of family 28 (fan-in), as owfuse lists them.
	des, err := os.ReadDir(fuse.dir)
	if err != nil {
		return err
	}
	var dev10, dev28 string
	for _, de := range des {
		switch {
		case dev10 == "" && strings.HasPrefix(de.Name(), "10."):
			dev10 = de.Name()
		case dev28 == "" && strings.HasPrefix(de.Name(), "28."):
			dev28 = de.Name()
		}
	}
	if dev10 == "" || dev28 == "" {
		return fmt.Errorf("owserver --fake 10,28 listed %d entries without a 10. and a 28. device", len(des))
	}
	fsTargets := func(rel string) []target {
		ts := []target{{"owfuse", filepath.Join(fuse.dir, rel), fuse}}
		if owfs != nil {
			ts = append(ts, target{"owfs", filepath.Join(owfs.dir, rel), owfs})
		}
		return ts
	}
	ceilings := func(variants ...string) []target {
		var ts []target
		for _, v := range variants {
			ts = append(ts, target{"ceiling-" + v, filepath.Join(ceil.dir, v, "temperature"), ceil})
		}
		return ts
	}
	warmRead := func(t target) { readOnce(t.path, make([]byte, 4096)) }

	// 1, 2: reads.
	for _, threads := range []int{1, 8} {
		name := fmt.Sprintf("cached read, %d thread%s", threads, plural(threads))
		b.timed(name, threads, append(fsTargets(filepath.Join(dev10, "temperature")), ceilings("a", "b", "c")...), warmRead, readOp)
	}
	for _, threads := range []int{1, 8} {
		name := fmt.Sprintf("uncached read, %d thread%s", threads, plural(threads))
		b.timed(name, threads, fsTargets(filepath.Join("uncached", dev10, "temperature")), warmRead, readOp)
	}

	// 4: ls -l of a device, after a warm-up listing in each round.
	name := "ls -l of a device"
	b.timed(name, 1, fsTargets(dev10), func(t target) { listLong(t.path) }, func(t target) func([]byte) error {
		return func([]byte) error { return listLong(t.path) }
	})
	if des, err := os.ReadDir(filepath.Join(fuse.dir, dev10)); err == nil {
		b.result(name).notes = append(b.result(name).notes, fmt.Sprintf("%d entries", len(des)))
	}

	// 5: writes of settings/timeout/volatile, each filesystem writing
	// back the value it reads there.
	name = "write settings/timeout/volatile"
	wts := fsTargets(filepath.Join("settings", "timeout", "volatile"))
	values := map[string][]byte{}
	for _, t := range wts {
		v, err := os.ReadFile(t.path)
		if err != nil {
			b.result(name).fail(t.fs, 1, err)
			v = []byte("15")
		}
		values[t.fs] = []byte(strings.TrimSpace(string(v)) + "\n")
	}
	b.result(name).notes = append(b.result(name).notes, fmt.Sprintf("writes %q back", strings.TrimSpace(string(values["owfuse"]))))
	if owfs != nil {
		// Checked by hand: a write there changes what owfs reads back,
		// not what owserver does, and succeeds with owserver stopped.
		b.result(name).notes = append(b.result(name).notes, "owfs keeps settings/ to itself: its writes never reach owserver, owfuse's do")
	}
	b.timed(name, 1, wts, nil, func(t target) func([]byte) error {
		return func([]byte) error { return os.WriteFile(t.path, values[t.fs], 0o644) }
	})

	// 6: fan-in.
	b.fanIn(append(fsTargets(filepath.Join(dev28, "temperature")), ceilings(matchingCeiling)...))
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// owfuse's default volatile_ttl and dir_ttl.
const (
	volatileLifetime = time.Second
	dirLifetime      = 10 * time.Second
)

// fanIn lets cfg.fanin goroutines read one property at once, after its
// cached value expired, cfg.faninRounds times, and records how long each
// burst took and owfuse's messages per burst.
func (b *bencher) fanIn(targets []target) {
	name := fmt.Sprintf("fan-in, %d readers at once", b.cfg.fanin)
	fmt.Fprintf(os.Stderr, "fsbench: %s\n", name)
	r := b.result(name)
	for _, t := range targets {
		readOnce(t.path, make([]byte, 4096))
	}
	maxPerBurst := 0.0
	for round := 0; round < b.cfg.faninRounds; round++ {
		time.Sleep(volatileLifetime + 100*time.Millisecond) // owfuse's value is stale now
		for _, t := range targets {
			var before msgCounts
			if t.fs == "owfuse" {
				before, _ = t.m.messages()
			}
			d, nerr, err := burst(b.cfg.fanin, readOp(t))
			if t.fs == "owfuse" {
				if after, err := t.m.messages(); err == nil && before != nil {
					delta := after.sub(before)
					r.msgs.add(delta)
					maxPerBurst = max(maxPerBurst, delta.total())
				}
				r.ops += int64(b.cfg.fanin - nerr)
			}
			r.add(t.fs, float64(d.Microseconds())/1000)
			r.fail(t.fs, int64(nerr), err)
		}
	}
	r.notes = append(r.notes, fmt.Sprintf("%d bursts, each %.1fs after the last; owfuse: at most %.0f msgs in a burst", b.cfg.faninRounds, (volatileLifetime+100*time.Millisecond).Seconds(), maxPerBurst))
	b.faninMax = maxPerBurst
}

// walks runs the tree walk on owfuse, then owfs, each on a fresh big bus
// (so that no owserver cache is warm) and a fresh mount: cold, then warm
// at once on the same mount. A walk is given up after its cap and its
// full time estimated from the devices it finished; owfs's warm walk is
// skipped when its cold one was capped (it would be as long again).
func (b *bencher) walks() error {
	var kinds []string
	for _, k := range strings.Split(b.cfg.walkOn, ",") {
		if k == "owfuse" || k == "owfs" && b.noOwfs == "" {
			kinds = append(kinds, k)
		}
	}
	cold, warm := b.result("tree walk, cold"), b.result("tree walk, warm")
	for _, kind := range kinds {
		fmt.Fprintf(os.Stderr, "fsbench: tree walk on %s\n", kind)
		bus, err := startBigBus(b.tmp)
		if err != nil {
			return err
		}
		var m *mount
		if kind == "owfuse" {
			m, err = mountOwfuse(b.tmp, b.bin, bus.addr)
		} else {
			m, err = mountOwfs(b.tmp, b.cfg.owfsBin, bus.addr)
		}
		if err != nil {
			bus.close()
			return err
		}
		walk := func(r *result, limit time.Duration) walkResult {
			before, _ := m.messages()
			w := treeWalk(m.dir, limit)
			fmt.Fprintf(os.Stderr, "fsbench:   %s: %.2f s, %d of %d devices, %d entries, %d errors\n", r.name, w.elapsed.Seconds(), w.done, w.devices, w.entries, w.errs)
			r.add(kind, w.elapsed.Seconds())
			r.fail(kind, int64(w.errs), w.firstErr)
			note := fmt.Sprintf("%s: %d devices, %d entries", kind, w.devices, w.entries)
			if w.capped {
				r.capped[kind] = true
				r.est[kind] = w.estimate().Seconds()
				note = fmt.Sprintf("%s: gave up after %v with %d of %d devices done (%d entries), whole walk estimated at %.0f s", kind, limit, w.done, w.devices, w.entries, r.est[kind])
			}
			r.notes = append(r.notes, note)
			if kind == "owfuse" {
				if after, err := m.messages(); err == nil && before != nil {
					r.msgs.add(after.sub(before))
				}
				r.ops += int64(w.entries)
			}
			return w
		}
		c := walk(cold, b.cfg.walkCap)
		if kind == "owfuse" && c.elapsed > dirLifetime {
			warm.notes = append(warm.notes, fmt.Sprintf("owfuse keeps listings %v (dir_ttl) and the cold walk took %.0f s: little of it is still cached", dirLifetime, c.elapsed.Seconds()))
		}
		if kind == "owfs" && cold.capped[kind] {
			warm.notes = append(warm.notes, "owfs: skipped, its cold walk was capped")
		} else {
			walk(warm, b.cfg.warmCap)
		}
		if kind == "owfuse" {
			b.rss, _ = peakRSS(m.proc.cmd.Process.Pid)
			if c.capped {
				b.rssPartial = fmt.Sprintf("the walks were given up on: %d of %d devices", c.done, c.devices)
			}
		}
		m.close()
		bus.close()
	}
	b.walkOK = true
	return nil
}
