package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// relLoadPath is one file the load test reads, and how to judge a value.
type relLoadPath struct {
	path  string
	check func(string) error // the value as read, newline included
}

var (
	relHex2  = regexp.MustCompile(`^[0-9A-F]{2}\n$`)
	relHex12 = regexp.MustCompile(`^[0-9A-F]{12}\n$`)
	relHex16 = regexp.MustCompile(`^[0-9A-F]{16}\n$`)
)

// relFloat accepts a trimmed number and its newline.
func relFloat(v string) error {
	s, ok := strings.CutSuffix(v, "\n")
	if !ok || strings.TrimSpace(s) != s {
		return fmt.Errorf("%q is not one trimmed line", v)
	}
	_, err := strconv.ParseFloat(s, 64)
	return err
}

// relExact accepts want only, after checking its form.
func relExact(form *regexp.Regexp, want string) func(string) error {
	return func(v string) error {
		if form != nil && !form.MatchString(v) {
			return fmt.Errorf("%q is not of the form %s", v, form)
		}
		if v != want {
			return fmt.Errorf("%q, want %q", v, want)
		}
		return nil
	}
}

// TestReliabilityLoad: 64 readers at once over a mount of four --fake
// devices (families 10 and 28), mixing cached, fixed and uncached/ paths.
// No read fails, every value is well-formed (and fixed ones are exactly
// owread's), and owfuse's memory stays bounded. Not parallel: it measures,
// and runs alone so that other tests neither skew its figures nor are
// slowed by it.
func TestReliabilityLoad(t *testing.T) {
	requireFUSE(t)
	readers, each := 64, 500
	if testing.Short() || relRace {
		readers, each = 64, 100
	}
	srv := owtest.StartOwserver(t, "--fake", "10,28,10,28")
	dir := t.TempDir()
	m := startMount(t, srv.Addr, dir)
	pid := m.cmd.Process.Pid

	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var paths []relLoadPath
	devices := 0
	for _, e := range ents {
		fam, _, ok := strings.Cut(e.Name(), ".")
		if !ok || (fam != "10" && fam != "28") {
			continue
		}
		devices++
		dev := "/" + e.Name()
		fixed := map[string]string{}
		for _, p := range []string{"type", "address", "id", "family", "crc8"} {
			fixed[p] = owreadTrimmed(t, srv.Addr, dev+"/"+p) + "\n"
		}
		if want := fam + "\n"; fixed["family"] != want {
			t.Fatalf("owread %s/family: %q, want %q", dev, fixed["family"], want)
		}
		if a := strings.TrimSpace(fixed["family"]) + strings.TrimSpace(fixed["id"]) + strings.TrimSpace(fixed["crc8"]); a+"\n" != fixed["address"] {
			t.Fatalf("owread %s: address %q is not family, id and crc8 %q", dev, fixed["address"], a)
		}
		add := func(p string, check func(string) error) {
			paths = append(paths, relLoadPath{filepath.Join(dir, p), check})
		}
		add(dev+"/temperature", relFloat)
		add(dev+"/temphigh", relFloat)
		add(dev+"/type", relExact(nil, fixed["type"]))
		add(dev+"/address", relExact(relHex16, fixed["address"]))
		add(dev+"/id", relExact(relHex12, fixed["id"]))
		add(dev+"/family", relExact(relHex2, fixed["family"]))
		add(dev+"/crc8", relExact(relHex2, fixed["crc8"]))
		add("/uncached"+dev+"/temperature", relFloat)
		add("/uncached"+dev+"/id", relExact(relHex12, fixed["id"]))
	}
	if devices != 4 {
		t.Fatalf("%d devices of families 10 and 28 in %s, want 4", devices, dir)
	}
	rssBefore, err := owtest.ProcStatusKB(pid, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}

	var failures atomic.Int64
	var mu sync.Mutex
	var first []string
	var wg sync.WaitGroup
	start := time.Now()
	for r := range readers {
		wg.Go(func() {
			for i := range each {
				p := paths[(r*7+i)%len(paths)]
				b, err := os.ReadFile(p.path)
				if err == nil {
					err = p.check(string(b))
				}
				if err != nil {
					failures.Add(1)
					mu.Lock()
					if len(first) < 10 {
						first = append(first, fmt.Sprintf("%s: %v", p.path, err))
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := readers * each
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d reads failed or were malformed; first:\n%s", n, total, strings.Join(first, "\n"))
	}
	peak, err := owtest.ProcStatusKB(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	rssAfter, _ := owtest.ProcStatusKB(pid, "VmRSS")
	const bound = 200 << 10 // kB
	if peak > bound {
		t.Errorf("owfuse's peak RSS was %d kB under load, want at most %d kB", peak, bound)
	}
	relFigure(t, "load_readers_x_reads", fmt.Sprintf("%d x %d = %d reads of %d files (4 devices, families 10 and 28, uncached/ included)", readers, each, total, len(paths)))
	relFigure(t, "load_errors", failures.Load())
	relFigure(t, "load_reads_per_second", fmt.Sprintf("%.0f", float64(total)/elapsed.Seconds()))
	relFigure(t, "load_owfuse_peak_rss", fmt.Sprintf("%.1f MiB (VmHWM; VmRSS %.1f MiB before, %.1f MiB after)", float64(peak)/1024, float64(rssBefore)/1024, float64(rssAfter)/1024))
}

// relLoop is a shell loop that runs a command until it fails, printing a
// line per success.
type relLoop struct {
	cmd            *exec.Cmd
	stdout, stderr *owtest.Buffer
	exited         chan struct{}
}

func relStartLoop(t *testing.T, command, file string) *relLoop {
	t.Helper()
	l := &relLoop{stdout: &owtest.Buffer{}, stderr: &owtest.Buffer{}, exited: make(chan struct{})}
	l.cmd = exec.Command("sh", "-c", `while `+command+` "$1" >/dev/null; do echo ok; done; exit 7`, "sh", file)
	l.cmd.Stdout, l.cmd.Stderr = l.stdout, l.stderr
	l.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { l.cmd.Wait(); close(l.exited) }()
	t.Cleanup(func() {
		select {
		case <-l.exited:
		default:
			l.cmd.Process.Kill()
			<-l.exited
		}
	})
	return l
}

func (l *relLoop) successes() int { return strings.Count(l.stdout.String(), "ok\n") }

// TestReliabilityUnmountUnderLoad: SIGTERM to owfuse while shell loops
// read files and list a device through the mount. owfuse exits 0 within
// its deadline, the mount is gone, and every loop ends because its
// command failed: nothing hangs.
func TestReliabilityUnmountUnderLoad(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	srv := owtest.StartOwserver(t, "--tester", "10,28")
	dir := t.TempDir()
	m := startMount(t, srv.Addr, dir, "-o", "volatile_ttl=0")
	var loops []*relLoop
	for _, c := range []struct{ command, path string }{
		{"cat", tester10 + "/temperature"},
		{"cat", tester28 + "/temperature"},
		{"cat", "/uncached" + tester10 + "/temperature"},
		{"cat", tester28 + "/type"},
		{"cat", volatile},
		{"ls", tester10},
		{"cat", tester10 + "/temperature"},
		{"ls", tester28}, // not the root: once unmounted, the empty mountpoint lists fine
	} {
		loops = append(loops, relStartLoop(t, c.command, filepath.Join(dir, c.path)))
	}
	// Every loop is reading before the signal.
	for deadline := time.Now().Add(mountDeadline); ; {
		busy := 0
		for _, l := range loops {
			select {
			case <-l.exited:
				t.Fatalf("%q ended before the signal: %s", l.cmd.Args, l.stderr.String())
			default:
			}
			if l.successes() >= 3 {
				busy++
			}
		}
		if busy == len(loops) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d loops read 3 times within %v", busy, len(loops), mountDeadline)
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}

	signaled := time.Now()
	m.signal(t, syscall.SIGTERM)
	m.stop(t, syscall.SIGTERM) // waits up to stopDeadline: exit code 0, mount gone
	relFigure(t, "unmount_under_load_owfuse_exit_after", relMs(time.Since(signaled)))
	const loopDeadline = 10 * time.Second
	reads := 0
	for _, l := range loops {
		select {
		case <-l.exited:
		case <-time.After(time.Until(signaled.Add(stopDeadline + loopDeadline))):
			l.cmd.Process.Kill()
			<-l.exited
			t.Errorf("%q still running %v after SIGTERM: a reader hangs", l.cmd.Args, time.Since(signaled))
			continue
		}
		if code := l.cmd.ProcessState.ExitCode(); code != 7 || l.stderr.String() == "" {
			t.Errorf("%q ended with exit %d, stderr %q; want its command to fail (exit 7) with a message", l.cmd.Args, code, l.stderr.String())
		}
		reads += l.successes()
	}
	relFigure(t, "unmount_under_load_readers_stopped_after", relMs(time.Since(signaled))+fmt.Sprintf(" (%d loops, %d reads before)", len(loops), reads))
	if isMounted(t, dir) {
		t.Errorf("%s is still mounted", dir)
	}
}
