package integration

import (
	"strings"
	"testing"
)

const volatile = "/settings/timeout/volatile"

func TestWriteThenOwreadShowsValue(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	tests := []struct {
		name  string
		args  []string // after "-s ADDR write"
		reads map[string]string
	}{
		{"one value", []string{volatile, "20"}, map[string]string{volatile: "20"}},
		{"hex value", []string{"--hex", volatile, "3235"}, map[string]string{volatile: "25"}},
		{"two pairs", []string{volatile, "41", "/settings/timeout/stable", "42"},
			map[string]string{volatile: "41", "/settings/timeout/stable": "42"}},
	}
	for _, tt := range tests { // in order: they write the same settings
		t.Run(tt.name, func(t *testing.T) {
			r := owfuse(t, append([]string{"-s", addr, "write"}, tt.args...)...)
			if r.code != exitOK || r.stdout != "" || r.stderr != "" {
				t.Fatalf("got code %d, stdout %q, stderr %q; want %d and no output", r.code, r.stdout, r.stderr, exitOK)
			}
			for path, want := range tt.reads {
				if got := owreadTrimmed(t, addr, path); got != want {
					t.Errorf("owread %s: got %q, want %q", path, got, want)
				}
				wantSame(t, owfuse(t, "-s", addr, "read", path), run(t, nil, "owread", "-s", addr, path))
			}
		})
	}
}

func TestOwwriteThenReadShowsValue(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	if r := run(t, nil, "owwrite", "-s", addr, volatile, "33"); r.code != 0 {
		t.Fatalf("owwrite exited %d: %s", r.code, r.stderr)
	}
	got := owfuse(t, "-s", addr, "read", volatile)
	wantSame(t, got, run(t, nil, "owread", "-s", addr, volatile))
	if got.stdout != "          33" {
		t.Errorf("got %q, want %q", got.stdout, "          33")
	}
}

func TestWriteRefusedByOwserver(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	// OWFS's own text for a return code, as the server has it.
	errText := func(code string) string {
		return owreadTrimmed(t, addr, "/settings/return_codes/text."+code)
	}
	tests := []struct {
		name        string
		path, value string
		texts       []string
	}{
		{"bad value", volatile, "abc", []string{volatile, errText("22")}},
		{"read-only property", tester10 + "/temperature", "20", []string{tester10 + "/temperature", errText("95")}},
		{"no such property", tester10 + "/nonesuch", "1", []string{tester10 + "/nonesuch", "no such device or property"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := owreadTrimmed(t, addr, volatile)
			r := owfuse(t, "-s", addr, "write", tt.path, tt.value)
			wantFailure(t, r, exitError, tt.texts...)
			if after := owreadTrimmed(t, addr, volatile); after != before {
				t.Errorf("%s changed from %q to %q", volatile, before, after)
			}
		})
	}
}

// A path and value over owserver's 100,050 bytes is a usage error, not
// sent (owserver would reset the connection: "lost connection", exit 69).
func TestWriteTooLarge(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	value := strings.Repeat("1", 100050-len(volatile))
	r := owfuse(t, "-s", addr, "write", volatile, value)
	wantFailure(t, r, exitUsage, volatile, "100050")
	if r := owfuse(t, "-s", addr, "write", volatile, "15"); r.code != exitOK {
		t.Errorf("the next write: exit %d, %s", r.code, r.stderr)
	}
}
