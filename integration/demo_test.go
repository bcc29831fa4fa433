package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// demoTimeout bounds `make demo`, which may build owfuse from a cold cache.
const demoTimeout = 5 * time.Minute

// demo is one `make demo` in a directory of its own (OWFUSE_DEMO_DIR).
type demo struct {
	root, dir, mnt string
	pids           map[string]int // "owserver", "owfuse": what the pid files named at start
}

// newDemo prepares a demo whose state lives under a new temporary
// directory. When t ends, whatever the demo left running is stopped and a
// mount left behind is detached.
func newDemo(t *testing.T) *demo {
	t.Helper()
	requireFUSE(t)
	owtest.Require(t, "make", "owserver", "owdir", "ss", "setsid", "getfattr", "umount")
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	d := &demo{root: root, dir: dir, mnt: filepath.Join(dir, "mnt"), pids: map[string]int{}}
	t.Cleanup(func() {
		if isMounted(t, d.mnt) || d.alive("owserver") || d.alive("owfuse") {
			r := d.make(t, []string{"FORCE=1"}, "demo-stop")
			t.Logf("cleanup: make demo-stop FORCE=1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		for name, pid := range d.pids {
			if d.alive(name) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("%s (pid %d) still ran when the test ended", name, pid)
			}
		}
		if isMounted(t, d.mnt) {
			out, err := exec.Command("umount", "-l", d.mnt).CombinedOutput()
			t.Errorf("%s still mounted when the test ended; umount -l: %v %s", d.mnt, err, out)
		}
	})
	return d
}

// make runs `make -s -C ROOT target vars...` with OWFUSE_DEMO_DIR set.
func (d *demo) make(t *testing.T, vars []string, target string) result {
	t.Helper()
	r, err := d.makeResult(vars, target)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// makeResult is make for any goroutine: it returns what went wrong
// instead of failing a test.
func (d *demo) makeResult(vars []string, target string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), demoTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", append([]string{"-s", "-C", d.root, target}, vars...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OWFUSE_") && !strings.HasPrefix(kv, "FORCE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "OWFUSE_DEMO_DIR="+d.dir)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("make %s did not exit within %v\n%s%s", target, demoTimeout, r.stdout, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		return r, fmt.Errorf("make %s: %v", target, err)
	}
	return r, nil
}

// pid returns the pid in the demo's NAME.pid, or 0 when there is none.
func (d *demo) pid(name string) int {
	b, err := os.ReadFile(filepath.Join(d.dir, name+".pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// alive reports whether the NAME the demo started still runs.
func (d *demo) alive(name string) bool {
	pid := d.pids[name]
	if pid == 0 || daemonGone(pid) {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.TrimSpace(string(comm)) == name
}

// start runs make demo, checks that it mounted and that its pid files name
// a running owserver and owfuse, and returns what it printed.
func (d *demo) start(t *testing.T) result {
	t.Helper()
	r := d.make(t, nil, "demo")
	d.wantStarted(t, r)
	return r
}

// wantStarted checks what start checks, given how make demo ended.
func (d *demo) wantStarted(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("make demo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !isMounted(t, d.mnt) {
		t.Fatalf("make demo exited 0 but %s is not mounted\n%s%s", d.mnt, r.stdout, r.stderr)
	}
	for _, name := range []string{"owserver", "owfuse"} {
		d.pids[name] = d.pid(name)
		if !d.alive(name) {
			t.Fatalf("%s.pid names %d, which is not a running %s", name, d.pids[name], name)
		}
	}
}

// wantStopped checks that nothing the demo started runs or is mounted and
// that the pid files are gone.
func (d *demo) wantStopped(t *testing.T) {
	t.Helper()
	if !waitUnmounted(t, d.mnt, unmountDeadline) {
		t.Errorf("%s is still mounted", d.mnt)
	}
	for name, pid := range d.pids {
		if !daemonWaitGone(pid, stopDeadline) && d.alive(name) {
			t.Errorf("%s (pid %d) still runs", name, pid)
		}
		if _, err := os.Stat(filepath.Join(d.dir, name+".pid")); err == nil {
			t.Errorf("%s.pid is still there", name)
		}
	}
}

// demoHolder is a process whose working directory is dir, which keeps a
// mount there busy until release.
type demoHolder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  bool
}

func demoBusy(t *testing.T, dir string) *demoHolder {
	t.Helper()
	h := &demoHolder{cmd: exec.Command("cat")}
	h.cmd.Dir = dir
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("start cat in %s: %v", dir, err)
	}
	t.Cleanup(h.release)
	return h
}

// release ends the process (cat exits at the end of its input).
func (h *demoHolder) release() {
	if h.done {
		return
	}
	h.done = true
	h.stdin.Close()
	h.cmd.Wait()
}

// TestDemo runs make demo as a user would, runs the lines its hints say to
// try, and stops it with make demo-stop: while a process sits in the
// mount, demo-stop stops nothing, says who holds the mount and fails,
// keeping its pid files; once the process left it stops everything. With
// FORCE=1 a busy mount is detached lazily and everything is stopped.
func TestDemo(t *testing.T) {
	t.Parallel()
	d := newDemo(t)
	r := d.start(t)
	if !strings.Contains(r.stdout, "makes up a new value") {
		t.Errorf("make demo does not say that a fake bus's values are random:\n%s", r.stdout)
	}
	// Every line to try works as printed.
	_, hints, ok := strings.Cut(r.stdout, "\nTry:\n")
	if !ok {
		t.Fatalf("make demo printed no \"Try:\" lines:\n%s", r.stdout)
	}
	var tried int
	for _, line := range lines(hints) {
		cmd, ok := strings.CutPrefix(line, "  ")
		if !ok {
			break
		}
		tried++
		hr := run(t, nil, "bash", "-c", cmd)
		if hr.code != 0 || hr.stderr != "" {
			t.Errorf("hint %q: exit %d, stderr %q", cmd, hr.code, hr.stderr)
			continue
		}
		if strings.Contains(cmd, "alias;") && !strings.Contains(hr.stdout, "\nkitchen\n") {
			t.Errorf("hint %q: stdout %q, want kitchen listed", cmd, hr.stdout)
		}
		if strings.Contains(cmd, "settings/timeout/volatile;") && hr.stdout != "20\n" {
			t.Errorf("hint %q: stdout %q, want 20", cmd, hr.stdout)
		}
	}
	if tried < 3 {
		t.Errorf("%d lines to try, want at least 3:\n%s", tried, hints)
	}
	if !strings.Contains(r.stdout, "make demo-stop") {
		t.Errorf("make demo does not say how to stop it:\n%s", r.stdout)
	}

	// Busy: nothing is stopped, and demo-stop says so and why.
	h := demoBusy(t, d.mnt)
	r = d.make(t, nil, "demo-stop")
	if r.code == 0 {
		t.Errorf("make demo-stop with a busy mount exited 0; stdout %q, stderr %q", r.stdout, r.stderr)
	}
	holder := fmt.Sprintf("pid %d (cat): cwd %s", h.cmd.Process.Pid, d.mnt)
	for _, want := range []string{"busy", holder, "Nothing was stopped", "FORCE=1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("make demo-stop with a busy mount: stderr %q, want it to contain %q", r.stderr, want)
		}
	}
	if !isMounted(t, d.mnt) {
		t.Errorf("make demo-stop with a busy mount unmounted it")
	}
	for name, pid := range d.pids {
		if !d.alive(name) {
			t.Errorf("make demo-stop with a busy mount stopped %s", name)
		}
		if got := d.pid(name); got != pid {
			t.Errorf("after make demo-stop with a busy mount, %s.pid holds %d, want %d", name, got, pid)
		}
	}
	// Not busy any more: everything stops.
	h.release()
	r = d.make(t, nil, "demo-stop")
	if r.code != 0 {
		t.Errorf("make demo-stop: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	d.wantStopped(t)

	// FORCE=1: detached lazily, everything stops; the holder is left with
	// a dead mount.
	d.start(t)
	h = demoBusy(t, d.mnt)
	r = d.make(t, []string{"FORCE=1"}, "demo-stop")
	if r.code != 0 || !strings.Contains(r.stdout, "lazily") {
		t.Errorf("make demo-stop FORCE=1 with a busy mount: exit %d, stdout %q, stderr %q; want 0 and a word on the lazy unmount", r.code, r.stdout, r.stderr)
	}
	d.wantStopped(t)
	if _, err := os.ReadDir(fmt.Sprintf("/proc/%d/cwd", h.cmd.Process.Pid)); !errors.Is(err, syscall.ENOTCONN) {
		t.Errorf("ls in the working directory of the holder after FORCE=1: %v, want ENOTCONN", err)
	}
	h.release()
}

// TestDemoParallel: demos started at the same moment, each in a directory
// of its own, get a port and an owserver each, and stop independently.
func TestDemoParallel(t *testing.T) {
	t.Parallel()
	ds := []*demo{newDemo(t), newDemo(t), newDemo(t)}
	rs := make([]result, len(ds))
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() { rs[i], errs[i] = d.makeResult(nil, "demo") })
	}
	wg.Wait()
	sources := map[string]string{}
	for i, d := range ds {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		d.wantStarted(t, rs[i])
		ms := mounts(t, d.mnt)
		if len(ms) != 1 {
			t.Fatalf("%d mounts at %s, want 1", len(ms), d.mnt)
		}
		if !strings.Contains(rs[i].stdout, "owserver --fake on "+ms[0].source+" is mounted at "+d.mnt) {
			t.Errorf("%s mounts %s, but make demo said:\n%s", d.mnt, ms[0].source, rs[i].stdout)
		}
		if other, ok := sources[ms[0].source]; ok {
			t.Errorf("%s and %s both mount %s", other, d.mnt, ms[0].source)
		}
		sources[ms[0].source] = d.mnt
		// The owserver listening there is this demo's.
		if out := mustRun(t, "ss", "-ltnpH", "sport = :"+ms[0].source[strings.LastIndexByte(ms[0].source, ':')+1:]); !strings.Contains(out, fmt.Sprintf("pid=%d,", d.pids["owserver"])) {
			t.Errorf("%s: ss says %q, want owserver pid %d listening", ms[0].source, out, d.pids["owserver"])
		}
	}
	for _, d := range ds {
		if r := d.make(t, nil, "demo-stop"); r.code != 0 {
			t.Errorf("make demo-stop: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		d.wantStopped(t)
	}
}
