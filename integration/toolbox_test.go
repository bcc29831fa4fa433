package integration

import (
	"strings"
	"testing"
)

// comparison is one owfuse command line and the ow-shell one that must
// print the same bytes. Both get "-s ADDR" in front.
type comparison struct {
	name   string
	owfuse []string
	tool   string
	args   []string
}

func compareAll(t *testing.T, addr string, tests []comparison) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := owfuse(t, append([]string{"-s", addr}, tt.owfuse...)...)
			want := run(t, nil, tt.tool, append([]string{"-s", addr}, tt.args...)...)
			wantSame(t, got, want)
		})
	}
}

func TestDirMatchesOwdir(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	compareAll(t, addr, []comparison{
		{"root", []string{"dir", "/"}, "owdir", []string{"/"}},
		{"default path is root", []string{"dir"}, "owdir", []string{"/"}},
		{"device", []string{"dir", tester10}, "owdir", []string{tester10}},
		{"device without leading slash", []string{"dir", tester26[1:]}, "owdir", []string{tester26[1:]}},
		{"subdirectory", []string{"dir", tester26 + "/pages"}, "owdir", []string{tester26 + "/pages"}},
		{"settings", []string{"dir", "/settings"}, "owdir", []string{"/settings"}},
		{"settings timeout", []string{"dir", "/settings/timeout"}, "owdir", []string{"/settings/timeout"}},
		{"uncached", []string{"dir", "/uncached"}, "owdir", []string{"/uncached"}},
		{"bus", []string{"dir", "/bus.0"}, "owdir", []string{"/bus.0"}},
		{"structure", []string{"dir", "/structure/10"}, "owdir", []string{"/structure/10"}},
		{"several paths", []string{"dir", "/", "/settings", tester28}, "owdir", []string{"/", "/settings", tester28}},
		{"slash root", []string{"dir", "--slash", "/"}, "owdir", []string{"--dir", "/"}},
		{"slash device", []string{"dir", "--slash", tester10}, "owdir", []string{"--dir", tester10}},
		{"format fic", []string{"--format", "fic", "dir", "/"}, "owdir", []string{"-f", "fic", "/"}},
		{"format f.i.c", []string{"--format", "f.i.c", "dir", "/"}, "owdir", []string{"-f", "f.i.c", "/"}},
		{"format fi device", []string{"-f", "fi", "dir", tester28}, "owdir", []string{"-f", "fi", tester28}},
	})
}

func TestDirListsTesterDevices(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	r := owfuse(t, "-s", addr, "dir", "/")
	if r.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr %q", r.code, exitOK, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	for _, want := range []string{tester10, tester28, tester26, "/bus.0", "/settings", "/uncached", "/structure"} {
		found := false
		for _, l := range lines {
			found = found || l == want
		}
		if !found {
			t.Errorf("got %q, want a line %q", r.stdout, want)
		}
	}
}

func TestReadMatchesOwread(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	temp := tester10 + "/temperature"
	compareAll(t, addr, []comparison{
		{"temperature", []string{"read", temp}, "owread", []string{temp}},
		{"temphigh", []string{"read", tester10 + "/temphigh"}, "owread", []string{tester10 + "/temphigh"}},
		{"type", []string{"read", tester10 + "/type"}, "owread", []string{tester10 + "/type"}},
		{"family", []string{"read", tester10 + "/family"}, "owread", []string{tester10 + "/family"}},
		{"id", []string{"read", tester10 + "/id"}, "owread", []string{tester10 + "/id"}},
		{"address", []string{"read", tester10 + "/address"}, "owread", []string{tester10 + "/address"}},
		{"crc8", []string{"read", tester10 + "/crc8"}, "owread", []string{tester10 + "/crc8"}},
		{"binary scratchpad", []string{"read", tester10 + "/scratchpad"}, "owread", []string{tester10 + "/scratchpad"}},
		{"DS18B20 temperature9", []string{"read", tester28 + "/temperature9"}, "owread", []string{tester28 + "/temperature9"}},
		{"DS2438 humidity", []string{"read", tester26 + "/humidity"}, "owread", []string{tester26 + "/humidity"}},
		{"DS2438 VAD", []string{"read", tester26 + "/VAD"}, "owread", []string{tester26 + "/VAD"}},
		{"setting", []string{"read", "/settings/timeout/volatile"}, "owread", []string{"/settings/timeout/volatile"}},
		{"structure", []string{"read", "/structure/10/temperature"}, "owread", []string{"/structure/10/temperature"}},
		{"several paths", []string{"read", tester10 + "/type", tester28 + "/type", temp}, "owread", []string{tester10 + "/type", tester28 + "/type", temp}},
		{"fahrenheit", []string{"--temp-scale", "F", "read", temp}, "owread", []string{"-F", temp}},
		{"fahrenheit by name", []string{"--temp-scale", "fahrenheit", "read", temp}, "owread", []string{"-F", temp}},
		{"kelvin", []string{"--temp-scale", "K", "read", temp}, "owread", []string{"-K", temp}},
		{"rankine", []string{"--temp-scale", "R", "read", tester28 + "/temperature"}, "owread", []string{"-R", tester28 + "/temperature"}},
		{"uncached", []string{"--uncached", "read", temp}, "owread", []string{"/uncached" + temp}},
		{"size", []string{"read", "--size", "4", tester10 + "/type"}, "owread", []string{"--size", "4", tester10 + "/type"}},
		{"offset", []string{"read", "--offset", "2", tester10 + "/type"}, "owread", []string{"--offset", "2", tester10 + "/type"}},
		{"size and offset", []string{"read", "--size", "3", "--offset", "2", temp}, "owread", []string{"--size", "3", "--offset", "2", temp}},
		{"hex", []string{"read", "--hex", tester10 + "/scratchpad", tester10 + "/type"}, "owread", []string{"--hex", tester10 + "/scratchpad", tester10 + "/type"}},
	})
}

func TestPresentMatchesOwpresent(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	tests := []struct {
		name  string
		paths []string
		code  int
	}{
		{"device", []string{tester10}, exitOK},
		{"property", []string{tester28 + "/temperature"}, exitOK},
		{"settings", []string{"/settings"}, exitOK},
		{"bus", []string{"/bus.0"}, exitOK},
		{"missing device", []string{"/10.111111111111"}, exitAbsent},
		{"missing property", []string{tester10 + "/nonesuch"}, exitAbsent},
		{"no such name", []string{"/nothing"}, exitAbsent},
		{"several, all present", []string{tester10, tester26, "/settings"}, exitOK},
		{"several, one missing", []string{tester10, "/nothing", tester28}, exitAbsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := owfuse(t, append([]string{"-s", addr, "present"}, tt.paths...)...)
			want := run(t, nil, "owpresent", append([]string{"-s", addr}, tt.paths...)...)
			if got.stdout != want.stdout {
				t.Errorf("got %q, want %q", got.stdout, want.stdout)
			}
			if got.code != tt.code {
				t.Errorf("exit code %d, want %d; stderr %q", got.code, tt.code, got.stderr)
			}
			// owpresent's status is that of its last path.
			if len(tt.paths) == 1 && (got.code == exitOK) != (want.code == 0) {
				t.Errorf("exit code %d, owpresent's %d", got.code, want.code)
			}
			if got.stderr != "" {
				t.Errorf("stderr %q, want nothing", got.stderr)
			}
		})
	}
}

func TestPingSucceedsSilently(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	r := owfuse(t, "-s", addr, "ping")
	if r.code != exitOK || r.stdout != "" || r.stderr != "" {
		t.Errorf("got code %d, stdout %q, stderr %q; want %d and no output", r.code, r.stdout, r.stderr, exitOK)
	}
}

func TestTraceLogsFrames(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	r := owfuse(t, "-s", addr, "--trace", "read", tester10+"/type")
	if r.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr %q", r.code, exitOK, r.stderr)
	}
	if r.stdout != "DS18S20" {
		t.Errorf("stdout %q, want %q", r.stdout, "DS18S20")
	}
	for _, want := range []string{"owserver send", "READ", "owserver reply"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q, want it to contain %q", r.stderr, want)
		}
	}
}

func TestEnvironmentVariables(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	temp := tester10 + "/temperature"
	tests := []struct {
		name   string
		env    []string
		owfuse []string
		tool   string
		args   []string
	}{
		{"OWFUSE_SERVER", []string{"OWFUSE_SERVER=" + addr}, []string{"dir", "/"}, "owdir", []string{"-s", addr, "/"}},
		{"OWFUSE_TEMP_SCALE", []string{"OWFUSE_TEMP_SCALE=F"}, []string{"-s", addr, "read", temp}, "owread", []string{"-s", addr, "-F", temp}},
		{"OWFUSE_FORMAT", []string{"OWFUSE_FORMAT=fic"}, []string{"-s", addr, "dir"}, "owdir", []string{"-s", addr, "-f", "fic", "/"}},
		{"flag beats variable", []string{"OWFUSE_SERVER=127.0.0.1:1"}, []string{"-s", addr, "dir"}, "owdir", []string{"-s", addr, "/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := run(t, tt.env, owfuseBin, tt.owfuse...)
			want := run(t, nil, tt.tool, tt.args...)
			wantSame(t, got, want)
		})
	}
}
