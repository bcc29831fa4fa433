package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// target is one filesystem's file or directory for a workload, and the
// processes whose CPU time it costs.
type target struct {
	fs     string // owfuse, owfs, ceiling
	path   string
	pid    int // the FUSE daemon's
	server int // its owserver's; 0 for the ceiling
}

// workload is one thing to measure on each of its targets.
type workload struct {
	name    string
	burst   bool // one burst per round, timed in ms (lower is better); else ops/s
	targets []target
	warm    func(t target) // before every run, untimed
	run     func(t target, d time.Duration) loopResult
}

// cell is one workload on one filesystem, over every round.
type cell struct {
	values         []float64 // per round: ops/s, or ms for a burst
	ops            int64
	daemon, server time.Duration // CPU time over every round
	msgs           msgCounts     // from the counting pass
	msgOps         int64
	errs           int64
	firstErr       string
}

func (c *cell) fail(n int64, err error) {
	if n == 0 || err == nil {
		return
	}
	c.errs += n
	if c.firstErr == "" {
		c.firstErr = err.Error()
	}
}

// walkRun is one tree walk.
type walkRun struct {
	walkResult
	msgs msgCounts
}

// results is everything a run measured.
type results struct {
	cfg     config
	machine string
	version string
	order   []*workload
	cells   map[string]map[string]*cell // workload name → filesystem → cell
	walks   map[string]map[string]walkRun
	mem     []string
	rss     map[string][2]int64 // memory() label → RSS, peak
	notes   []string
}

func newResults(cfg config) *results {
	return &results{cfg: cfg, cells: map[string]map[string]*cell{}, walks: map[string]map[string]walkRun{}, rss: map[string][2]int64{}}
}

func (r *results) cell(w *workload, fs string) *cell {
	m := r.cells[w.name]
	if m == nil {
		m = map[string]*cell{}
		r.cells[w.name] = m
		r.order = append(r.order, w)
	}
	c := m[fs]
	if c == nil {
		c = &cell{msgs: msgCounts{}}
		m[fs] = c
	}
	return c
}

// timed runs w on t once, for d, and records it.
func (r *results) timed(w *workload, t target, d time.Duration) {
	if w.warm != nil {
		w.warm(t)
	}
	d0, s0 := cpuTime(t.pid), cpuTime(t.server)
	lr := w.run(t, d)
	d1, s1 := cpuTime(t.pid), cpuTime(t.server)
	c := r.cell(w, t.fs)
	if w.burst {
		c.values = append(c.values, float64(lr.elapsed.Microseconds())/1000)
	} else {
		c.values = append(c.values, lr.rate())
	}
	c.ops += lr.ops
	c.daemon += d1 - d0
	c.server += s1 - s0
	c.fail(lr.errs, lr.firstErr)
}

// counted runs w on t, mounted through rel, once, and records the
// messages that passed per operation.
func (r *results) counted(w *workload, t target, rel *relay, d time.Duration) {
	if w.warm != nil {
		w.warm(t)
	}
	rel.take()
	lr := w.run(t, d)
	c := r.cell(w, t.fs)
	c.fail(lr.errs, lr.firstErr)
	c.msgs.add(rel.take())
	if w.burst {
		c.msgOps++ // per burst
	} else {
		c.msgOps += lr.ops
	}
}

func (r *results) walk(phase, fs string, w walkResult, msgs msgCounts, limit time.Duration) walkResult {
	fmt.Fprintf(os.Stderr, "fsbench:   %s walk: %.2f s, %d of %d devices, %d entries, %d errors\n", phase, w.elapsed.Seconds(), w.done, w.devices, w.entries, w.errs)
	if r.walks[phase] == nil {
		r.walks[phase] = map[string]walkRun{}
	}
	r.walks[phase][fs] = walkRun{w, msgs}
	return w
}

// memory records a process's RSS and peak RSS now.
func (r *results) memory(label string, pid int) {
	rss, peak, err := memory(pid)
	if err != nil {
		r.notes = append(r.notes, fmt.Sprintf("%s: %v", label, err))
		return
	}
	r.mem = append(r.mem, label)
	r.rss[label] = [2]int64{rss, peak}
}

// spread is the median, min and max of vs.
func spread(vs []float64) (med, lo, hi float64, ok bool) {
	if len(vs) == 0 {
		return 0, 0, 0, false
	}
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1], true
}

// speedups are owfuse's speed over other's, round by round: a ratio of
// rates, or for bursts of times the other way round, so that above 1 is
// always owfuse ahead.
func (r *results) speedups(w *workload, other string) []float64 {
	a, b := r.cells[w.name]["owfuse"], r.cells[w.name][other]
	if a == nil || b == nil {
		return nil
	}
	var out []float64
	for i := range min(len(a.values), len(b.values)) {
		x, y := a.values[i], b.values[i]
		if w.burst {
			x, y = y, x
		}
		if y > 0 {
			out = append(out, x/y)
		}
	}
	return out
}

func fmtSpread(vs []float64, prec int, suffix string) string {
	med, lo, hi, ok := spread(vs)
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.*f%s (%.*f–%.*f)", prec, med, suffix, prec, lo, prec, hi)
}

// precision is how many decimals a value of size v gets in the tables.
func precision(v float64) int {
	switch {
	case v >= 100:
		return 0
	case v >= 10:
		return 1
	default:
		return 2
	}
}

func (r *results) valueCell(w *workload, fs string) string {
	c := r.cells[w.name][fs]
	if c == nil {
		return "–"
	}
	med, _, _, _ := spread(c.values)
	s := fmtSpread(c.values, precision(med), "")
	if c.errs > 0 {
		s += fmt.Sprintf(" **%d errors**", c.errs)
	}
	return s
}

func (r *results) perOp(w *workload, fs string, what func(*cell) (float64, int64)) string {
	c := r.cells[w.name][fs]
	if c == nil {
		return "–"
	}
	v, n := what(c)
	if n == 0 {
		return "–"
	}
	x := v / float64(n)
	return fmt.Sprintf("%.*f", precision(x), x)
}

// msgsCell is owserver messages per operation, to three significant
// digits: a cached read's are a few in ten thousand.
func (r *results) msgsCell(w *workload, fs string) string {
	c := r.cells[w.name][fs]
	if c == nil || c.msgOps == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3g", c.msgs.total()/float64(c.msgOps))
}
func daemonUs(c *cell) (float64, int64) { return float64(c.daemon.Microseconds()), c.ops }
func serverUs(c *cell) (float64, int64) { return float64(c.server.Microseconds()), c.ops }

// write renders the results as Markdown, prints them and writes them to
// dir/results.md.
func (r *results) write(dir string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# fsbench results\n\n")
	fmt.Fprintf(&b, "owfuse %s, %s, %s/%s; %d rounds of %v per workload and filesystem, in rotated order. ", r.version, time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, r.cfg.rounds, r.cfg.round)
	fmt.Fprintf(&b, "Machine: %s.\n\n", r.machine)
	fmt.Fprintf(&b, "Each cell: median (min–max) over the rounds. Reads are ops/s (higher is better), fan-in is ms per burst (lower is better). owfuse/x is owfuse's speed over x's, taken round by round.\n\n")

	if len(r.order) > 0 {
		b.WriteString("## Speed\n\n| workload | owfuse | owfs | ceiling | owfuse/owfs | owfuse/ceiling |\n|---|---|---|---|---|---|\n")
		for _, w := range r.order {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", w.name, r.valueCell(w, "owfuse"), r.valueCell(w, "owfs"), r.valueCell(w, "ceiling"),
				fmtSpread(r.speedups(w, "owfs"), 2, "x"), fmtSpread(r.speedups(w, "ceiling"), 2, "x"))
		}
		b.WriteString("\n## Cost per operation\n\nowserver messages per operation (counting pass: per burst for fan-in), and CPU time per operation in µs of the FUSE daemon and of the owserver behind it (timed rounds, /proc/PID/stat, 10 ms ticks summed over all rounds).\n\n")
		b.WriteString("| workload | msgs owfuse | msgs owfs | daemon µs owfuse | daemon µs owfs | daemon µs ceiling | owserver µs owfuse | owserver µs owfs |\n|---|---|---|---|---|---|---|---|\n")
		for _, w := range r.order {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", w.name,
				r.msgsCell(w, "owfuse"), r.msgsCell(w, "owfs"),
				r.perOp(w, "owfuse", daemonUs), r.perOp(w, "owfs", daemonUs), r.perOp(w, "ceiling", daemonUs),
				r.perOp(w, "owfuse", serverUs), r.perOp(w, "owfs", serverUs))
		}
		var errs []string
		for _, w := range r.order {
			for _, fs := range []string{"owfuse", "owfs", "ceiling"} {
				if c := r.cells[w.name][fs]; c != nil && c.errs > 0 {
					errs = append(errs, fmt.Sprintf("- %s, %s: %d errors, the first: %s", w.name, fs, c.errs, c.firstErr))
				}
			}
		}
		if len(errs) > 0 {
			b.WriteString("\nErrors:\n" + strings.Join(errs, "\n") + "\n")
		}
	}
	if len(r.walks) > 0 {
		b.WriteString("\n## Tree walk of 1,000 devices\n\nThrough a counting relay on both (its hop is in the times). Messages by type.\n\n| walk | filesystem | seconds | devices | directories | entries | errors | messages |\n|---|---|---|---|---|---|---|---|\n")
		for _, phase := range []string{"cold", "warm"} {
			for _, fs := range []string{"owfuse", "owfs"} {
				w, ok := r.walks[phase][fs]
				if !ok {
					continue
				}
				secs := fmt.Sprintf("%.2f", w.elapsed.Seconds())
				if w.capped {
					secs = fmt.Sprintf("gave up at %.0f; whole walk ~%.0f", w.elapsed.Seconds(), w.estimate().Seconds())
				}
				errs := fmt.Sprint(w.errs)
				if w.firstErr != nil {
					errs += fmt.Sprintf(" (the first: %v)", w.firstErr)
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %d of %d | %d | %d | %s | %s |\n", phase, fs, secs, w.done, w.devices, w.dirs, w.entries, errs, w.msgs)
			}
		}
	}
	if len(r.mem) > 0 {
		b.WriteString("\n## Memory (Go's default GC)\n\n| process | RSS | peak RSS |\n|---|---|---|\n")
		for _, l := range r.mem {
			fmt.Fprintf(&b, "| %s | %.1f MiB | %.1f MiB |\n", l, mib(r.rss[l][0]), mib(r.rss[l][1]))
		}
	}
	b.WriteString("\n## Targets (reported, not enforced)\n\n| target | measured | verdict |\n|---|---|---|\n")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.what, t.measured, t.verdict)
	}
	if len(r.notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range r.notes {
			b.WriteString("- " + n + "\n")
		}
	}
	fmt.Print(b.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out := filepath.Join(dir, "results.md")
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "fsbench: wrote", out)
	return nil
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func (c msgCounts) String() string {
	if len(c) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, c[k]))
	}
	return strings.Join(parts, ", ")
}
