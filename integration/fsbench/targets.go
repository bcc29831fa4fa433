package main

import (
	"fmt"
	"strings"
)

// goal is one of issue 14's targets, as measured.
type goal struct{ what, measured, verdict string }

// targets checks the measured numbers against the targets. They are
// reported, never enforced: a run on a busy machine must not fail.
func (r *results) targets() []goal {
	var gs []goal
	find := func(prefix string) []*workload {
		var ws []*workload
		for _, w := range r.order {
			if strings.HasPrefix(w.name, prefix) {
				ws = append(ws, w)
			}
		}
		return ws
	}
	speed := func(prefix string, want float64) {
		for _, w := range find(prefix) {
			g := goal{what: fmt.Sprintf("%s: ≥ %.1fx owfs", w.name, want)}
			med, lo, _, ok := spread(r.speedups(w, "owfs"))
			switch {
			case !ok:
				g.measured, g.verdict = "–", "not measured"
			case lo >= want:
				g.verdict = "met in every round"
			case med >= want:
				g.verdict = "met at the median, not in every round"
			default:
				g.verdict = "**missed**"
			}
			if ok {
				// What the ceiling reaches says how much of the goal any
				// FUSE filesystem could reach with this reader.
				g.measured = fmtSpread(r.speedups(w, "owfs"), 2, "x")
				if c := r.cells[w.name]["ceiling"]; c != nil {
					cm, _, _, _ := spread(c.values)
					om, _, _, _ := spread(r.cells[w.name]["owfs"].values)
					g.measured += fmt.Sprintf("; the ceiling: %.2fx", cm/om)
				}
			}
			gs = append(gs, g)
		}
	}
	speed("uncached read, read until EOF, Go, 1 thread", 1.2)
	speed("uncached read, read until EOF, Python, 1 thread", 1.2)
	speed("uncached read, read until EOF, Go, 8 threads", 2)
	speed("uncached read, read until EOF, Python, 8 threads", 2)
	speed("cached read, read until EOF", 2)

	for _, w := range find("uncached read, read until EOF, Go, 1 thread") {
		a, b := r.cells[w.name]["owfuse"], r.cells[w.name]["owfs"]
		if a == nil || b == nil || a.ops == 0 || b.ops == 0 {
			continue
		}
		x, y := float64(a.daemon.Microseconds())/float64(a.ops), float64(b.daemon.Microseconds())/float64(b.ops)
		gs = append(gs, goal{"daemon CPU per uncached read (" + w.name + "): ≤ owfs's", fmt.Sprintf("owfuse %.0f µs, owfs %.0f µs", x, y), verdict(x <= y)})
	}
	messages := func(prefix, what string, most float64) {
		for _, w := range find(prefix) {
			c := r.cells[w.name]["owfuse"]
			if c == nil || c.msgOps == 0 {
				continue
			}
			per := c.msgs.total() / float64(c.msgOps)
			gs = append(gs, goal{fmt.Sprintf("%s: %s", w.name, what), fmt.Sprintf("%.2f (%s in %d)", per, c.msgs, c.msgOps), verdict(per <= most)})
		}
	}
	messages("ls -l of a device", "0 owserver messages", 0)
	messages("fan-in", "1 owserver message per burst", 1)

	if w, ok := r.walks["cold"]["owfuse"]; ok {
		lists := w.msgs["DIRALLSLASH"] + w.msgs["DIRALL"] + w.msgs["DIR"]
		reads := w.msgs["READ"]
		gs = append(gs, goal{"cold walk of 1,000 devices: at most one listing per directory, no value reads",
			fmt.Sprintf("%.0f listings for %d directories, %.0f reads", lists, w.dirs, reads), verdict(lists <= float64(w.dirs) && reads == 0 && !w.capped)})
	}
	memGoal := func(label string, limit int64, peak bool) {
		v, ok := r.rss[label]
		if !ok {
			return
		}
		n, what := v[0], "RSS"
		if peak {
			n, what = v[1], "peak RSS"
		}
		gs = append(gs, goal{fmt.Sprintf("%s: %s < %d MiB", label, what, limit>>20), fmt.Sprintf("%.1f MiB", mib(n)), verdict(n < limit)})
	}
	memGoal("owfuse, idle after mount", 20<<20, false)
	memGoal("owfuse, after the cold walk", 60<<20, true)
	memGoal("owfuse, after the cold and warm walks", 60<<20, true)
	return gs
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}
