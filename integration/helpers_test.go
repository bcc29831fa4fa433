package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// Exit codes of owfuse; they must match the constants in main.go.
const (
	exitOK          = 0
	exitError       = 1
	exitAbsent      = 3
	exitUsage       = 64
	exitUnreachable = 69
	exitTimeout     = 75
)

// Device paths of `owserver --tester 10,28,26`, and the first device of
// `owserver --fake 10,28`.
const (
	tester10 = "/10.000010EF0000"
	tester28 = "/28.000028D70100"
	tester26 = "/26.000026D90200"
	fake10   = "/10.67C6697351FF"
)

// runTimeout bounds every program run; owfuse's own --timeout is 10s. A
// daemon built with -race runs several times slower (a listing of
// 100,000 names took over 30 s on a loaded 2-core machine).
var runTimeout = map[bool]time.Duration{false: 30 * time.Second, true: 90 * time.Second}[daemonRace]

// daemonBound is a bound on how soon owfuse does something, doubled for a
// daemon built with -race: room for the detector, still below the 10 s
// request timeout that such bounds are there to tell apart.
func daemonBound(d time.Duration) time.Duration {
	if daemonRace {
		return 2 * d
	}
	return d
}

// owfuseBin is the binary TestMain built.
var owfuseBin string

// daemonRace reports whether owfuseBin is built with the race detector:
// when OWFUSE_RACE_DAEMON=1 (make unit sets it; make race-gomaxprocs1 does
// not, so that the memory bounds are checked on a plain build in the same
// CI run). go-fuse's docs ask for its servers to be tested so.
var daemonRace = os.Getenv("OWFUSE_RACE_DAEMON") == "1"

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "owfuse-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	owfuseBin = filepath.Join(dir, "owfuse")
	build := exec.Command("go", "build", "-o", owfuseBin, ".")
	if daemonRace {
		build.Args = append(build.Args[:2], append([]string{"-race"}, build.Args[2:]...)...)
		// Every owfuse the tests start, daemons included (whose stderr
		// goes nowhere), writes its race reports here.
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" log_path="+filepath.Join(dir, "race")))
	}
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: go build in %s: %v\n%s", root, err, out)
		return 1
	}
	code := m.Run()
	if daemonRace && raceReports(dir) && code == 0 {
		code = 1
	}
	return code
}

// raceReports prints the race detector's reports that owfuse processes
// left in dir, and reports whether there were any.
func raceReports(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "race.*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		fmt.Fprintf(os.Stderr, "integration: the race detector reported in owfuse (%s):\n%s\n", filepath.Base(f), b)
	}
	return len(files) > 0
}

// repoRoot returns the directory of the go.mod this package belongs to.
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

// result is how one run of a program ended.
type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// run runs a program with args. The environment is the test's own without
// OWFUSE_* variables, plus env.
func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OWFUSE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %q did not exit within %v", filepath.Base(name), args, runTimeout)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %q: %v", filepath.Base(name), args, err)
	}
	return r
}

// owfuse runs the binary under test.
func owfuse(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, nil, owfuseBin, args...)
}

// startTester starts `owserver --tester 10,28,26`, whose values are the
// same on every read, and returns its address.
func startTester(t *testing.T) string {
	t.Helper()
	owtest.Require(t, "owdir", "owread", "owwrite", "owpresent")
	return owtest.StartOwserver(t, "--tester", "10,28,26").Addr
}

// wantSame fails t unless owfuse and the ow-shell tool both succeeded and
// printed the same bytes.
func wantSame(t *testing.T, got, want result) {
	t.Helper()
	if want.code != 0 {
		t.Fatalf("ow-shell exited %d (stderr %q): cannot compare", want.code, want.stderr)
	}
	if want.stdout == "" {
		t.Fatal("ow-shell printed nothing: the comparison would prove nothing")
	}
	if got.code != exitOK {
		t.Fatalf("owfuse exited %d, want %d; stderr %q", got.code, exitOK, got.stderr)
	}
	if got.stdout != want.stdout {
		t.Errorf("got %q, want %q", got.stdout, want.stdout)
	}
	if got.stderr != "" {
		t.Errorf("owfuse wrote %q to stderr, want nothing", got.stderr)
	}
}

// wantFailure fails t unless r exited with code, printed nothing on stdout
// and exactly one line on stderr that starts with "owfuse: " and contains
// every one of texts.
func wantFailure(t *testing.T, r result, code int, texts ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d; stderr %q", r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	line, rest, _ := strings.Cut(r.stderr, "\n")
	if rest != "" || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr %q, want one line", r.stderr)
	}
	if !strings.HasPrefix(line, "owfuse: ") {
		t.Errorf("stderr %q, want it to start with %q", line, "owfuse: ")
	}
	for _, s := range texts {
		if !strings.Contains(line, s) {
			t.Errorf("stderr %q, want it to contain %q", line, s)
		}
	}
}

// owreadTrimmed reads path with owread and trims the space padding.
func owreadTrimmed(t *testing.T, addr, path string) string {
	t.Helper()
	r := run(t, nil, "owread", "-s", addr, path)
	if r.code != 0 {
		t.Fatalf("owread %s exited %d: %s", path, r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}
