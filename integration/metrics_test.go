package integration

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// daemonSample is one sample of a Prometheus text exposition.
type daemonSample struct {
	name   string
	labels map[string]string
	value  float64
}

// daemonScrape gets http://addr/metrics and parses its samples.
func daemonScrape(t *testing.T, addr string) []daemonSample {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s\n%s", resp.Status, body)
	}
	var out []daemonSample
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := daemonSample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
			s.name = line[:i]
			end := strings.LastIndexByte(line, '}')
			if end < i {
				t.Fatalf("scrape: bad line %q", line)
			}
			for _, kv := range daemonSplitLabels(line[i+1 : end]) {
				k, v, _ := strings.Cut(kv, "=")
				uq, err := strconv.Unquote(v)
				if err != nil {
					t.Fatalf("scrape: bad label %q in %q", kv, line)
				}
				s.labels[k] = uq
			}
			rest = strings.TrimSpace(line[end+1:])
		} else {
			s.name, rest, _ = strings.Cut(line, " ")
		}
		v, _, _ := strings.Cut(rest, " ") // a timestamp may follow
		if s.value, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatalf("scrape: bad value in %q", line)
		}
		out = append(out, s)
	}
	return out
}

// daemonSplitLabels splits `a="x",b="y,z"` at the commas between pairs.
func daemonSplitLabels(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// daemonMetric sums the samples named name whose labels include labels,
// and reports whether there was any.
func daemonMetric(samples []daemonSample, name string, labels map[string]string) (float64, bool) {
	sum, found := 0.0, false
	for _, s := range samples {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range labels {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			sum += s.value
			found = true
		}
	}
	return sum, found
}

// TestMetricsDuringReads scrapes --metrics-listen before and after reads
// through the mount: owserver messages, cache hits, pool connections and
// the errors returned to the kernel are counted.
func TestMetricsDuringReads(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr
	port, err := owtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	mnt := t.TempDir()
	startMount(t, addr, mnt, "--metrics-listen", metricsAddr)

	temp10 := filepath.Join(mnt, tester10, "temperature")
	mustRun(t, "ls", mnt)
	for range 4 { // within volatile_ttl (1s): the first asks owserver, the rest hit the cache
		mustRun(t, "cat", temp10)
	}
	first := daemonScrape(t, metricsAddr)

	// More reads, of values not read yet: each asks owserver.
	mustRun(t, "ls", filepath.Join(mnt, tester28))
	for _, p := range []string{tester28 + "/temperature", tester28 + "/type", tester10 + "/temphigh"} {
		mustRun(t, "cat", filepath.Join(mnt, p))
	}
	missing := filepath.Join(mnt, "nonexistent")
	if r := run(t, nil, "cat", missing); r.code == 0 || !strings.Contains(r.stderr, "No such file or directory") {
		t.Errorf("cat %s: exit %d, stderr %q; want No such file or directory", missing, r.code, r.stderr)
	}
	second := daemonScrape(t, metricsAddr)

	readsOK := map[string]string{"type": "READ", "outcome": "ok"}
	r1, ok1 := daemonMetric(first, "owfuse_owserver_messages_total", readsOK)
	r2, ok2 := daemonMetric(second, "owfuse_owserver_messages_total", readsOK)
	switch {
	case !ok1 || !ok2:
		t.Errorf(`owfuse_owserver_messages_total{outcome="ok",type="READ"} missing (first scrape %v, second %v)`, ok1, ok2)
	case r1 < 1:
		t.Errorf(`owfuse_owserver_messages_total{outcome="ok",type="READ"} %v after a read, want at least 1`, r1)
	case r2 < r1+3:
		t.Errorf(`owfuse_owserver_messages_total{outcome="ok",type="READ"} went from %v to %v over 3 new reads, want +3 at least`, r1, r2)
	}
	if hits, ok := daemonMetric(first, "owfuse_cache_hits_total", nil); !ok || hits < 1 {
		t.Errorf("owfuse_cache_hits_total: %v (present %v) after repeated reads, want at least 1", hits, ok)
	}
	if hits, ok := daemonMetric(first, "owfuse_cache_hits_total", map[string]string{"class": "volatile"}); !ok || hits < 1 {
		t.Errorf(`owfuse_cache_hits_total{class="volatile"}: %v (present %v) after 4 reads of a temperature in 1s, want at least 1`, hits, ok)
	}
	if _, ok := daemonMetric(second, "owfuse_pool_connections", map[string]string{"state": "idle"}); !ok {
		t.Error(`owfuse_pool_connections{state="idle"} missing`)
	}
	if _, ok := daemonMetric(second, "owfuse_owserver_request_seconds_count", map[string]string{"type": "READ"}); !ok {
		t.Error(`owfuse_owserver_request_seconds_count{type="READ"} missing`)
	}
	enoent := map[string]string{"errno": "ENOENT"}
	e1, _ := daemonMetric(first, "owfuse_fuse_errors_total", enoent)
	if e2, ok := daemonMetric(second, "owfuse_fuse_errors_total", enoent); !ok || e2 < e1+1 {
		t.Errorf(`owfuse_fuse_errors_total{errno="ENOENT"}: %v before cat of a missing file, %v (present %v) after; want +1 at least`, e1, e2, ok)
	}
}
