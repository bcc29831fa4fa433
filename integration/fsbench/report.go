package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one line of the table.
type row struct {
	name        string
	unit        string // ops/s, s, ms
	lowerBetter bool
	ceiling     string // the ceiling variant compared with, or ""
	r           *result
}

func (b *bencher) rows() []row {
	ceil := "ceiling-" + matchingCeiling
	all := []row{
		{"cached read, 1 thread", "ops/s", false, ceil, nil},
		{"cached read, 8 threads", "ops/s", false, ceil, nil},
		{"uncached read, 1 thread", "ops/s", false, "", nil},
		{"uncached read, 8 threads", "ops/s", false, "", nil},
		{"tree walk, cold", "s", true, "", nil},
		{"tree walk, warm", "s", true, "", nil},
		{"ls -l of a device", "ops/s", false, "", nil},
		{"write settings/timeout/volatile", "ops/s", false, "", nil},
		{fmt.Sprintf("fan-in, %d readers at once", b.cfg.fanin), "ms", true, ceil, nil},
	}
	var rows []row
	for _, x := range all {
		if x.r = b.res[x.name]; x.r != nil {
			rows = append(rows, x)
		}
	}
	return rows
}

// value is a filesystem's median, or false.
func (x row) value(fsName string) (float64, bool) {
	if fsName == "" {
		return 0, false
	}
	return x.r.median(fsName)
}

// estimate is a filesystem's value, or for a capped walk its estimate;
// est tells which.
func (x row) estimate(fsName string) (v float64, est, ok bool) {
	if e, capped := x.r.est[fsName]; capped && x.r.capped[fsName] {
		return e, true, true
	}
	v, ok = x.value(fsName)
	return v, false, ok
}

func (x row) format(fsName string) string {
	v, ok := x.value(fsName)
	if !ok {
		return "-"
	}
	switch x.unit {
	case "ops/s":
		return strconv.FormatFloat(v, 'f', 0, 64)
	case "s":
		if x.r.capped[fsName] {
			return fmt.Sprintf(">%.0f s (est. %.0f s)", v, x.r.est[fsName])
		}
		return strconv.FormatFloat(v, 'f', 2, 64) + " s"
	default:
		return strconv.FormatFloat(v, 'f', 2, 64) + " " + x.unit
	}
}

// ratio is owfuse's value over fsName's; est when either is an estimate.
func (x row) ratio(fsName string) (r float64, est, ok bool) {
	if fsName == "" {
		return 0, false, false
	}
	a, e1, ok1 := x.estimate("owfuse")
	b, e2, ok2 := x.estimate(fsName)
	if !ok1 || !ok2 || b == 0 {
		return 0, false, false
	}
	return a / b, e1 || e2, true
}

func (x row) formatRatio(fsName string) string {
	r, est, ok := x.ratio(fsName)
	if !ok {
		return "-"
	}
	s := strconv.FormatFloat(r, 'f', 2, 64)
	if est {
		s = "~" + s
	}
	return s
}

// speedup is how many times faster owfuse is than fsName (>1: faster).
func (x row) speedup(fsName string) (float64, bool, bool) {
	r, est, ok := x.ratio(fsName)
	if !ok || r == 0 {
		return 0, false, false
	}
	if x.lowerBetter {
		return 1 / r, est, true
	}
	return r, est, true
}

func (x row) msgs() string {
	t := x.r.msgs.total()
	if _, ok := x.r.samples["owfuse"]; !ok {
		return "-"
	}
	s := strconv.FormatFloat(t, 'f', 0, 64)
	if x.r.ops > 0 {
		s += " (" + strconv.FormatFloat(t/float64(x.r.ops), 'g', 2, 64) + "/op)"
	}
	return s
}

func (x row) notes(b *bencher) string {
	var n []string
	if x.unit != "ops/s" {
		n = append(n, "lower is better")
	}
	if strings.HasPrefix(x.name, "cached read") {
		var parts []string
		for _, v := range ceilingVariants {
			if val, ok := x.value("ceiling-" + v.dir); ok {
				parts = append(parts, fmt.Sprintf("%s %.0f", v.desc, val))
			}
		}
		if len(parts) > 0 {
			n = append(n, "ceiling ops/s: "+strings.Join(parts, "; "))
		}
		if r, _, ok := x.ratio("ceiling-c"); ok {
			n = append(n, fmt.Sprintf("owfuse/(c) %.2f", r))
		}
	}
	if x.ceiling != "" && !strings.HasPrefix(x.name, "cached read") {
		n = append(n, "ceiling: "+ceilingDesc(x.ceiling))
	}
	n = append(n, x.r.notes...)
	if len(x.r.msgs) > 0 {
		types := make([]string, 0, len(x.r.msgs))
		for t := range x.r.msgs {
			types = append(types, t)
		}
		slices.Sort(types)
		var parts []string
		for _, t := range types {
			parts = append(parts, fmt.Sprintf("%s %.0f", t, x.r.msgs[t]))
		}
		n = append(n, "owfuse msgs: "+strings.Join(parts, ", "))
	}
	if len(x.r.procs) > 0 {
		n = append(n, "owfuse GOMAXPROCS after each round: "+strings.Trim(fmt.Sprint(x.r.procs), "[]"))
	}
	fss := make([]string, 0, len(x.r.errs))
	for f := range x.r.errs {
		fss = append(fss, f)
	}
	slices.Sort(fss)
	for _, f := range fss {
		n = append(n, fmt.Sprintf("ERRORS on %s: %d (%s)", f, x.r.nerrs[f], x.r.errs[f]))
	}
	return strings.Join(n, "; ")
}

func ceilingDesc(name string) string {
	for _, v := range ceilingVariants {
		if "ceiling-"+v.dir == name {
			return v.desc
		}
	}
	return name
}

var header = []string{"workload", "owfuse", "owfs", "ceiling", "owfuse/owfs", "owfuse/ceiling", "owfuse bus msgs", "notes"}

func (b *bencher) cells() [][]string {
	var out [][]string
	for _, x := range b.rows() {
		unit := x.unit
		if unit == "ms" {
			unit = "ms per burst"
		}
		out = append(out, []string{
			fmt.Sprintf("%s (%s)", x.name, unit),
			x.format("owfuse"), x.format("owfs"), x.format(x.ceiling),
			x.formatRatio("owfs"), x.formatRatio(x.ceiling),
			x.msgs(), x.notes(b),
		})
	}
	return out
}

// targetLine is one speed target and whether it was met.
type targetLine struct {
	what   string
	status string // met, NOT met, n/a
	detail string
}

func (b *bencher) targets() []targetLine {
	rs := map[string]row{}
	for _, x := range b.rows() {
		rs[x.name] = x
	}
	var out []targetLine
	ratioAtLeast := func(what, rowName, fsName string, min float64) {
		t := targetLine{what: what, status: "n/a", detail: "not measured"}
		if x, ok := rs[rowName]; ok {
			if r, _, ok := x.ratio(fsName); ok {
				t.detail = fmt.Sprintf("%.2fx (target ≥ %.1fx)", r, min)
				t.status = metIf(r >= min)
			}
		}
		out = append(out, t)
	}
	ceil := "ceiling-" + matchingCeiling
	ratioAtLeast("uncached read, 1 thread: owfuse ≥ 1.2x owfs", "uncached read, 1 thread", "owfs", 1.2)
	ratioAtLeast("uncached read, 8 threads: owfuse ≥ 2x owfs", "uncached read, 8 threads", "owfs", 2)
	ratioAtLeast("cached read, 1 thread: owfuse ≥ 2x owfs", "cached read, 1 thread", "owfs", 2)
	ratioAtLeast("cached read, 1 thread: owfuse ≥ 0.8x ceiling "+ceilingDesc(ceil), "cached read, 1 thread", ceil, 0.8)
	ratioAtLeast("cached read, 8 threads: owfuse ≥ 0.8x ceiling "+ceilingDesc(ceil), "cached read, 8 threads", ceil, 0.8)

	t := targetLine{what: "tree walk, cold: owfuse ≤ 0.5x owfs's time", status: "n/a", detail: "not measured"}
	if x, ok := rs["tree walk, cold"]; ok {
		if r, est, ok := x.ratio("owfs"); ok {
			fu, _, _ := x.estimate("owfuse")
			ow, _, _ := x.estimate("owfs")
			t.status, t.detail = metIf(r <= 0.5), fmt.Sprintf("%.2fx (%.1f s vs %.1f s)", r, fu, ow)
			if est {
				t.detail += ", estimated from walks given up after " + b.cfg.walkCap.String()
			}
		}
	}
	out = append(out, t)

	t = targetLine{what: "tree walk, warm: owfuse < 1 s for 1,000 devices", status: "n/a", detail: "not measured"}
	if x, ok := rs["tree walk, warm"]; ok {
		if fu, ok := x.value("owfuse"); ok {
			t.status, t.detail = metIf(fu < 1 && !x.r.capped["owfuse"]), x.format("owfuse")
		}
	}
	out = append(out, t)

	t = targetLine{what: "ls -l of a device after warm-up: 0 owfuse bus messages", status: "n/a", detail: "not measured"}
	if x, ok := rs["ls -l of a device"]; ok {
		n := x.r.msgs.total()
		t.status, t.detail = metIf(n == 0), fmt.Sprintf("%.0f messages over %d listings", n, x.r.ops)
	}
	out = append(out, t)

	t = targetLine{what: "fan-in: ≤ 1 owfuse bus message per volatile lifetime per property", status: "n/a", detail: "not measured"}
	if x, ok := rs[fmt.Sprintf("fan-in, %d readers at once", b.cfg.fanin)]; ok && x.r.ops > 0 {
		t.status = metIf(b.faninMax <= 1)
		t.detail = fmt.Sprintf("at most %.0f per burst of %d reads (%.3f per read)", b.faninMax, b.cfg.fanin, x.r.msgs.total()/float64(x.r.ops))
	}
	out = append(out, t)

	t = targetLine{what: "owfuse peak RSS after the 1,000-device walk < 60 MiB", status: "n/a", detail: "not measured"}
	if b.walkOK && b.rss > 0 {
		t.status, t.detail = metIf(b.rss < 60<<20), fmt.Sprintf("%.1f MiB", float64(b.rss)/(1<<20))
		if b.rssPartial != "" {
			t.detail += " (" + b.rssPartial + ")"
			if b.rss < 60<<20 {
				t.status = "partial" // under the limit so far; the whole walk may not be
			}
		}
	}
	out = append(out, t)
	return out
}

func (b *bencher) rssLine() string {
	s := fmt.Sprintf("owfuse peak RSS (VmHWM) after the 1,000-device walk: %.1f MiB", float64(b.rss)/(1<<20))
	if b.rssPartial != "" {
		s += " (" + b.rssPartial + ")"
	}
	return s
}

func metIf(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func (b *bencher) report(env string) error {
	cells := b.cells()
	targets := b.targets()
	settings := fmt.Sprintf("medians of %d rounds of %v per filesystem (tree walks: once each, cold given up after %v, warm after %v; fan-in: %d bursts)", b.cfg.rounds, b.cfg.round, b.cfg.walkCap, b.cfg.warmCap, b.cfg.faninRounds)

	w := os.Stdout
	fmt.Fprintln(w)
	fmt.Fprintf(w, "fsbench: owfuse vs owfs vs a constant-file go-fuse ceiling; %s\n", settings)
	fmt.Fprintf(w, "machine: %s\n", env)
	if b.noOwfs != "" {
		fmt.Fprintln(w, b.noOwfs)
	}
	fmt.Fprintln(w)
	writeText(w, cells)
	fmt.Fprintln(w)
	if b.walkOK && b.rss > 0 {
		fmt.Fprintf(w, "%s\n\n", b.rssLine())
	}
	fmt.Fprintln(w, "targets (reported, not asserted):")
	for _, t := range targets {
		fmt.Fprintf(w, "  %-8s %s: %s\n", "["+t.status+"]", t.what, t.detail)
	}

	md := filepath.Join(b.cfg.outDir, "results.md")
	svg := filepath.Join(b.cfg.outDir, "results.svg")
	if err := os.WriteFile(md, []byte(b.markdown(cells, targets, env, settings)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(svg, []byte(b.svg()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nwrote %s and %s\n", md, svg)
	return nil
}

func writeText(w io.Writer, cells [][]string) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len([]rune(h))
	}
	for _, c := range cells {
		for i, s := range c[:len(c)-1] {
			widths[i] = max(widths[i], len([]rune(s)))
		}
	}
	line := func(c []string) {
		var b strings.Builder
		for i, s := range c {
			if i == len(c)-1 {
				b.WriteString(s)
				break
			}
			pad := widths[i] - len([]rune(s))
			if i == 0 {
				b.WriteString(s + strings.Repeat(" ", pad))
			} else {
				b.WriteString(strings.Repeat(" ", pad) + s)
			}
			b.WriteString("  ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, c := range cells {
		line(c)
	}
}

func (b *bencher) markdown(cells [][]string, targets []targetLine, env, settings string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "# owfuse filesystem benchmark\n\n")
	fmt.Fprintf(&s, "Written by `make bench` (`go run ./integration/fsbench`) on %s: owfuse, OWFS's own FUSE client (owfs) and a constant-file go-fuse ceiling, all against `owserver --fake` on loopback; %s. Machine: %s. Numbers are relative within one run.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), settings, env)
	if b.noOwfs != "" {
		fmt.Fprintf(&s, "%s.\n\n", b.noOwfs)
	}
	fmt.Fprintf(&s, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, c := range cells {
		esc := make([]string, len(c))
		for i, x := range c {
			esc[i] = strings.ReplaceAll(x, "|", `\|`)
		}
		fmt.Fprintf(&s, "| %s |\n", strings.Join(esc, " | "))
	}
	if b.walkOK && b.rss > 0 {
		fmt.Fprintf(&s, "\n%s.\n", b.rssLine())
	}
	fmt.Fprintf(&s, "\nRatios are owfuse's value over the other's: above 1 is better for ops/s, below 1 for times; ~ marks one computed from the estimate of a walk given up on. Ceiling: %s (owfuse opens read-only property files with FOPEN_DIRECT_IO|FOPEN_NOFLUSH).\n", ceilingDesc("ceiling-"+matchingCeiling))
	fmt.Fprintf(&s, "\n## Targets (reported, not asserted)\n\n")
	for _, t := range targets {
		fmt.Fprintf(&s, "- **%s** %s: %s\n", t.status, t.what, t.detail)
	}
	fmt.Fprintf(&s, "\n![owfuse speed relative to owfs and to the ceiling](results.svg)\n")
	return s.String()
}

// svg draws, for each workload, how many times faster owfuse is than owfs
// and than the ceiling, on a log scale.
func (b *bencher) svg() string {
	type bar struct {
		v     float64
		color string
		est   bool // from an estimate (a walk given up on)
	}
	type line struct {
		label string
		bars  []bar
	}
	const colOwfs, colCeil = "#4477aa", "#ee6677"
	var lines []line
	lo, hi := 0.5, 2.0
	for _, x := range b.rows() {
		l := line{label: x.name}
		if v, est, ok := x.speedup("owfs"); ok {
			l.bars = append(l.bars, bar{v, colOwfs, est})
		}
		if v, est, ok := x.speedup(x.ceiling); ok {
			l.bars = append(l.bars, bar{v, colCeil, est})
		}
		if len(l.bars) == 0 {
			continue
		}
		for _, br := range l.bars {
			lo, hi = min(lo, br.v), max(hi, br.v)
		}
		lines = append(lines, l)
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	const (
		labelW, plotW, right = 250.0, 480.0, 70.0
		top, barH, gap       = 60.0, 14.0, 14.0
	)
	rowH := 2*barH + gap
	height := top + float64(len(lines))*rowH + 30
	width := labelW + plotW + right
	x := func(v float64) float64 { return labelW + plotW*(math.Log10(v)-dlo)/(dhi-dlo) }

	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&s, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&s, `<text x="10" y="20" font-size="14" font-weight="bold">owfuse speed relative to owfs and to the FUSE ceiling (×, log scale; &gt;1 = owfuse faster)</text>`+"\n")
	fmt.Fprintf(&s, `<rect x="%.0f" y="32" width="12" height="12" fill="%s"/><text x="%.0f" y="42">vs owfs</text>`+"\n", labelW, colOwfs, labelW+16)
	fmt.Fprintf(&s, `<rect x="%.0f" y="32" width="12" height="12" fill="%s"/><text x="%.0f" y="42">vs ceiling %s</text>`+"\n", labelW+90, colCeil, labelW+106, html.EscapeString(ceilingDesc("ceiling-"+matchingCeiling)))
	bottom := top + float64(len(lines))*rowH
	for d := dlo; d <= dhi; d++ {
		v := math.Pow(10, d)
		stroke, w := "#ccc", 1.0
		if d == 0 {
			stroke, w = "#333", 1.5
		}
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="%s" stroke-width="%.1f"/>`+"\n", x(v), top-6, x(v), bottom, stroke, w)
		fmt.Fprintf(&s, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%s×</text>`+"\n", x(v), bottom+16, strconv.FormatFloat(v, 'g', -1, 64))
	}
	for i, l := range lines {
		y := top + float64(i)*rowH
		fmt.Fprintf(&s, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", labelW-8, y+barH+4, html.EscapeString(l.label))
		for j, br := range l.bars {
			by := y + float64(j)*barH
			x0, x1 := x(1), x(br.v)
			if x1 < x0 {
				x0, x1 = x1, x0
			}
			label := strconv.FormatFloat(br.v, 'f', 2, 64) + "×"
			if br.est {
				label = "~" + label + " (est.)"
			}
			fmt.Fprintf(&s, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x0, by, math.Max(x1-x0, 1), barH-2, br.color)
			fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" fill="#333">%s</text>`+"\n", math.Max(x1, x(1))+4, by+barH-3, html.EscapeString(label))
		}
	}
	s.WriteString("</svg>\n")
	return s.String()
}
