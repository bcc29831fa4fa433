// Command benchreport reads the output of owclient's BenchmarkRead
// (go test -bench) on stdin, copies it to stdout, and then prints a table:
// the median ops/s of each variant over its runs, each owclient variant as
// a ratio of the raw-socket loop with the same persistence and number of
// goroutines, and the two speed targets. The targets are reported, not
// enforced: benchreport fails only when the benchmark run failed or
// printed no results.
//
//	go test -run '^$' -bench . -count 3 ./owclient | go run ./owclient/benchreport
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Speed targets (issue requirement).
const (
	targetPersistentVsRaw = 0.9 // owclient persistent 1g / raw persistent 1g
	targetScaling         = 2.5 // owclient persistent 8g / owclient persistent 1g
)

// benchLine matches "BenchmarkRead/owclient/persistent/g1-2  1234  85000 ns/op ...".
var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// runs holds, per variant name ("Read/owclient/persistent/g1"), the
// metrics of each run, by unit.
type runs map[string][]map[string]float64

func main() {
	rs, order, failed, err := parse(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "benchreport: no benchmark results on stdin")
		os.Exit(1)
	}
	fmt.Println()
	report(os.Stdout, rs, order)
	if failed {
		fmt.Fprintln(os.Stderr, "benchreport: the benchmark run failed (see above)")
		os.Exit(1)
	}
}

// parse copies in to echo and collects the benchmark results, in the order
// their variants first appear. failed is set by go test's failure lines.
func parse(in io.Reader, echo io.Writer) (rs runs, order []string, failed bool, err error) {
	rs = runs{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(echo, line)
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "panic:") {
			failed = true
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			metrics[f[i+1]] = v
		}
		if _, ok := metrics["ops/s"]; !ok {
			continue
		}
		if _, seen := rs[m[1]]; !seen {
			order = append(order, m[1])
		}
		rs[m[1]] = append(rs[m[1]], metrics)
	}
	return rs, order, failed, sc.Err()
}

// median returns the median of unit over name's runs, or 0 (and false)
// when there is none.
func (rs runs) median(name, unit string) (float64, bool) {
	var v []float64
	for _, m := range rs[name] {
		if x, ok := m[unit]; ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2, true
	}
	return v[len(v)/2], true
}

// reference is the raw variant an owclient variant is compared with.
func reference(name string) string {
	if strings.Contains(name, "/owclient/") {
		return strings.Replace(name, "/owclient/", "/raw/", 1)
	}
	return ""
}

func report(w io.Writer, rs runs, order []string) {
	const row = "%-26s %4s %14s %8s %8s %11s %12s %14s %9s\n"
	fmt.Fprintf(w, row, "variant", "runs", "ops/s (median)", "min", "max", "vs raw", "client µs/op", "owserver µs/op", "allocs/op")
	for _, name := range order {
		ops, _ := rs.median(name, "ops/s")
		lo, hi := ops, ops
		for _, m := range rs[name] {
			lo, hi = min(lo, m["ops/s"]), max(hi, m["ops/s"])
		}
		ratio := "(reference)"
		if ref := reference(name); ref != "" {
			ratio = "-"
			if r, ok := rs.median(ref, "ops/s"); ok && r > 0 {
				ratio = fmt.Sprintf("%.2f", ops/r)
			}
		}
		fmt.Fprintf(w, row, strings.TrimPrefix(name, "Read/"), strconv.Itoa(len(rs[name])),
			fmt.Sprintf("%.0f", ops), fmt.Sprintf("%.0f", lo), fmt.Sprintf("%.0f", hi), ratio,
			micro(rs, name, "client-cpu-ns/op"), micro(rs, name, "server-cpu-ns/op"), plain(rs, name, "allocs/op"))
	}
	fmt.Fprintln(w)

	check(w, rs, "persistent 1g / raw 1g", "Read/owclient/persistent/g1", "Read/raw/persistent/g1", targetPersistentVsRaw)
	check(w, rs, "persistent 8g / persistent 1g", "Read/owclient/persistent/g8", "Read/owclient/persistent/g1", targetScaling)
	check(w, rs, "raw 8g / raw 1g (what owserver allows here)", "Read/raw/persistent/g8", "Read/raw/persistent/g1", 0)
}

func micro(rs runs, name, unit string) string {
	if v, ok := rs.median(name, unit); ok {
		return fmt.Sprintf("%.1f", v/1000)
	}
	return "-"
}

func plain(rs runs, name, unit string) string {
	if v, ok := rs.median(name, unit); ok {
		return fmt.Sprintf("%.0f", v)
	}
	return "-"
}

// check prints the ratio of two variants' median ops/s against target (0:
// no target, for information).
func check(w io.Writer, rs runs, label, num, den string, target float64) {
	n, ok1 := rs.median(num, "ops/s")
	d, ok2 := rs.median(den, "ops/s")
	if !ok1 || !ok2 || d == 0 {
		fmt.Fprintf(w, "%s: not measured\n", label)
		return
	}
	r := n / d
	switch {
	case target == 0:
		fmt.Fprintf(w, "%s = %.2f (no target)\n", label, r)
	case r >= target:
		fmt.Fprintf(w, "%s = %.2f (target >= %.1f) ok\n", label, r, target)
	default:
		fmt.Fprintf(w, "%s = %.2f (target >= %.1f) MISSED\n", label, r, target)
	}
}
