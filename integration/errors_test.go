package integration

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// quickly bounds failures that must not wait for owfuse's 10s timeout.
const quickly = 5 * time.Second

func TestUnreachableServer(t *testing.T) {
	t.Parallel()
	port, err := owtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for _, args := range [][]string{
		{"ping"},
		{"dir", "/"},
		{"read", tester10 + "/temperature"},
		{"write", volatile, "20"},
		{"present", tester10},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			r := owfuse(t, append([]string{"-s", addr}, args...)...)
			wantFailure(t, r, exitUnreachable, "cannot reach owserver at "+addr)
			if r.elapsed > quickly {
				t.Errorf("took %v, want under %v", r.elapsed, quickly)
			}
		})
	}
}

// startSilentServer listens on loopback and accepts connections but never
// answers, like a hung owserver.
func startSilentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn // the accepting goroutine's until done is closed
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestSilentServerTimesOut(t *testing.T) {
	t.Parallel()
	addr := startSilentServer(t)
	for _, args := range [][]string{{"ping"}, {"read", tester10 + "/temperature"}, {"dir", "/"}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			r := owfuse(t, append([]string{"-s", addr, "--timeout", "300ms"}, args...)...)
			wantFailure(t, r, exitTimeout, "owserver at "+addr+" did not answer within 300ms")
			if r.elapsed < 300*time.Millisecond || r.elapsed > quickly {
				t.Errorf("took %v, want 300ms to %v", r.elapsed, quickly)
			}
		})
	}
}

func TestNonexistentPath(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	tests := []struct {
		name string
		args []string
		path string
	}{
		{"read", []string{"read", "/nonexist"}, "/nonexist"},
		{"read missing property", []string{"read", tester10 + "/nonesuch"}, tester10 + "/nonesuch"},
		{"dir", []string{"dir", "/nonexist"}, "/nonexist"},
		{"write", []string{"write", "/nonexist", "1"}, "/nonexist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantFailure(t, owfuse(t, append([]string{"-s", addr}, tt.args...)...), exitError, tt.path)
		})
	}
}

// TestReadGoesOnAfterAFailure: as ow-shell does, a path that fails is
// reported and the next one read; the exit status says one failed.
func TestReadGoesOnAfterAFailure(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	r := owfuse(t, "-s", addr, "read", tester10+"/type", "/10.111111111111/type", tester28+"/type")
	if want := "DS18S20DS18B20"; r.stdout != want {
		t.Errorf("got %q, want %q: the values before and after the failure", r.stdout, want)
	}
	r.stdout = ""
	wantFailure(t, r, exitError, "/10.111111111111/type")
}

func TestDirOfFileFails(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	want := run(t, nil, "owdir", "-s", addr, tester10+"/temperature")
	if want.code == 0 {
		t.Fatalf("owdir of a file succeeded: %q", want.stdout)
	}
	errText := owreadTrimmed(t, addr, "/settings/return_codes/text.20")
	wantFailure(t, owfuse(t, "-s", addr, "dir", tester10+"/temperature"), exitError, tester10+"/temperature", errText)
}

// TestUsageErrors needs no owserver: owfuse must refuse these command lines
// before it connects (the address has nothing listening).
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		args []string
		text string
	}{
		{"unknown global flag", nil, []string{"--bogus", "ping"}, "bogus"},
		{"unknown verb flag", nil, []string{"dir", "--bogus"}, "bogus"},
		{"unknown verb", nil, []string{"frob"}, `unknown command "frob"`},
		{"temperature scale", nil, []string{"--temp-scale", "X", "ping"}, `option --temp-scale: "X" is not one of C, F, K or R`},
		{"temperature scale variable", []string{"OWFUSE_TEMP_SCALE=X"}, []string{"ping"}, `option --temp-scale: "X" is not one of C, F, K or R (from $OWFUSE_TEMP_SCALE)`},
		{"pressure scale", nil, []string{"--pressure-scale", "bar", "ping"}, `option --pressure-scale: "bar" is not one of mbar, atm, mmHg, inHg, psi or Pa`},
		{"device format", nil, []string{"--format", "ifc", "ping"}, `option --format: "ifc" is not one of f.i, fi, f.i.c, f.ic, fi.c or fic`},
		{"zero timeout", nil, []string{"--timeout", "0s", "ping"}, `option --timeout: 0s is below 10ms`},
		{"huge timeout", nil, []string{"--timeout", "99999h", "ping"}, `option --timeout: 99999h is above the most, 10m`},
		{"bad duration", nil, []string{"--timeout", "soon", "ping"}, `"soon"`},
		{"bad bool variable", []string{"OWFUSE_UNCACHED=maybe"}, []string{"ping"}, "OWFUSE_UNCACHED"},
		{"bad port", nil, []string{"-s", "localhost:99999", "ping"}, `option --server: bad port in server address "localhost:99999"`},
		{"read without path", nil, []string{"read"}, "read needs at least one PATH"},
		{"read size zero", nil, []string{"read", "--size", "0", "/x"}, "option --size: 0 is below 1"},
		{"read size too big", nil, []string{"read", "--size", "100051", "/x"}, "option --size: 100051 is above the most, 100050"},
		{"read negative offset", nil, []string{"read", "--offset", "-1", "/x"}, "option --offset: -1 is below 0"},
		{"write without value", nil, []string{"write", volatile}, "PATH VALUE pairs"},
		{"write bad hex", nil, []string{"write", "--hex", volatile, "zz"}, "not hexadecimal"},
		{"present without path", nil, []string{"present"}, "present needs at least one PATH"},
		{"ping with argument", nil, []string{"ping", "/"}, "ping takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"-s", "127.0.0.1:1"}, tt.args...)
			wantFailure(t, run(t, tt.env, owfuseBin, args...), exitUsage, tt.text)
		})
	}
}
