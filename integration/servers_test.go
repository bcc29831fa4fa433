package integration

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// TestOddServers runs the verbs against owservers that keep persistence
// from clients, list only with MSG_DIR, or flood replies with keepalive
// frames, and against a client that turns persistence off itself. --fake
// values are random, so reads are only checked to be numbers.
func TestOddServers(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "owdir", "owread", "owpresent")
	tests := []struct {
		name       string
		serverArgs []string
		clientArgs []string
		trace      string // what --trace must show, to prove the server's oddity was met
	}{
		{"pingcrazy", []string{"--pingcrazy"}, nil, "keepalive"},
		{"no_persistence", []string{"--no_persistence"}, nil, ""},
		{"no_dirall", []string{"--no_dirall"}, nil, "type=4(DIR)"},
		{"client no-persistence", nil, []string{"--no-persistence"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := owtest.StartOwserver(t, append([]string{"--fake", "10,28"}, tt.serverArgs...)...).Addr
			client := func(args ...string) []string { return slices.Concat(tt.clientArgs, args) }
			compareAll(t, addr, []comparison{
				{"dir root", client("dir", "/"), "owdir", []string{"/"}},
				{"dir device", client("dir", fake10), "owdir", []string{fake10}},
				{"dir slash", client("dir", "--slash", "/"), "owdir", []string{"--dir", "/"}},
				{"dir several", client("dir", "/settings", "/structure"), "owdir", []string{"/settings", "/structure"}},
				{"read type", client("read", fake10+"/type"), "owread", []string{fake10 + "/type"}},
				{"present", client("present", fake10, "/bus.0"), "owpresent", []string{fake10, "/bus.0"}},
			})
			for _, p := range []string{fake10 + "/temperature", "/uncached" + fake10 + "/temperature"} {
				got := owfuse(t, slices.Concat([]string{"-s", addr}, client("read", p))...)
				want := run(t, nil, "owread", "-s", addr, p)
				for who, r := range map[string]result{"owfuse": got, "owread": want} {
					if _, err := strconv.ParseFloat(strings.TrimSpace(r.stdout), 64); err != nil || r.code != 0 {
						t.Errorf("%s read %s: got %q (exit %d, stderr %q), want a number", who, p, r.stdout, r.code, r.stderr)
					}
				}
			}
			if r := owfuse(t, slices.Concat([]string{"-s", addr}, client("ping"))...); r.code != exitOK {
				t.Errorf("ping: exit code %d, want %d; stderr %q", r.code, exitOK, r.stderr)
			}
			r := owfuse(t, slices.Concat([]string{"-s", addr, "--trace"}, client("dir", "/"))...)
			if r.code != exitOK || !strings.Contains(r.stderr, tt.trace) {
				t.Errorf("--trace dir /: exit code %d, stderr %q; want %d and %q in it", r.code, r.stderr, exitOK, tt.trace)
			}
		})
	}
}
