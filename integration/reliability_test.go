package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// Reliability tests (issue 5): real owserver processes killed, stopped and
// restarted under a mount, servers that close idle sockets, refuse
// persistence or flood keepalives, concurrent writers, bad input and
// access rules. Measured figures are logged as "FIGURE name: value" for
// README.

// relFigure logs one measured figure in the format README's tables are
// copied from.
func relFigure(t *testing.T, name string, value any) {
	t.Helper()
	t.Logf("FIGURE %s: %v", name, value)
}

// relMs formats a duration as whole milliseconds.
func relMs(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// relResult is how one program run ended; err is set when it could not
// run or did not exit in time. Unlike run, relExec may be called from any
// goroutine.
type relResult struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
	err            error
}

func relExec(name string, args ...string) relResult {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := relResult{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err, r.code = fmt.Errorf("%s %q did not exit within %v", name, args, runTimeout), -1
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		r.err, r.code = err, -1
	}
	return r
}

// relErrno returns the errno err carries, or 0.
func relErrno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// relFreeAddr returns a loopback address that was free a moment ago.
func relFreeAddr(t *testing.T) string {
	t.Helper()
	port, err := owtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

// relMetrics scrapes owfuse's Prometheus endpoint: each sample keyed by
// its name and labels as printed.
func relMetrics(addr string) (map[string]float64, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// relSum adds up every sample of the metric name, whatever its labels.
func relSum(m map[string]float64, name string) float64 {
	var sum float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			sum += v
		}
	}
	return sum
}

// relMetric scrapes one metric, summed over its labels, or fails t. A
// counter nobody has counted yet is 0.
// relMessages returns owfuse's owserver message counters, by labels.
func relMessages(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	m, err := relMetrics(addr)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, "owfuse_owserver_messages_total{") {
			out[k] = v
		}
	}
	return out
}

// relSettled waits until owfuse has sent owserver nothing for 200 ms, and
// returns its message counters then.
func relSettled(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	prev := relMessages(t, addr)
	for {
		time.Sleep(200 * time.Millisecond) // the quiet period itself
		cur := relMessages(t, addr)
		if maps.Equal(prev, cur) {
			return cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("owfuse still sending owserver messages after 10s: %v", cur)
		}
		prev = cur
	}
}

func relMetric(t *testing.T, addr, name string) float64 {
	t.Helper()
	m, err := relMetrics(addr)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return relSum(m, name)
}

// relFDs counts the open descriptors of process pid, and among them the
// TCP sockets connected to port on the other end.
func relFDs(pid, port int) (total, toPort int, err error) {
	total, states, err := relSockets(pid, func(local, remote int) bool { return remote == port })
	for _, n := range states {
		toPort += n
	}
	return total, toPort, err
}

// relSockets counts the open descriptors of process pid and, by TCP state
// ("01" ESTABLISHED, "08" CLOSE_WAIT…), its sockets whose ports match.
func relSockets(pid int, match func(local, remote int) bool) (total int, states map[string]int, err error) {
	port := func(addr string) int {
		_, p, _ := strings.Cut(addr, ":")
		n, err := strconv.ParseUint(p, 16, 16)
		if err != nil {
			return -1
		}
		return int(n)
	}
	inodes := map[string]string{} // "socket:[inode]" to state
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err != nil {
			return 0, nil, err
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) >= 10 && match(port(fs[1]), port(fs[2])) {
				inodes["socket:["+fs[9]+"]"] = fs[3]
			}
		}
	}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, nil, err
	}
	states = map[string]int{}
	for _, e := range ents {
		total++
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil {
			if st, ok := inodes[l]; ok {
				states[st]++
			}
		}
	}
	return total, states, nil
}

// relFDLinks returns what each descriptor of pid points to, sorted.
func relFDLinks(pid int) []string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		l, _ := os.Readlink(filepath.Join(dir, e.Name()))
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// relPort returns the port of a host:port address.
func relPort(t *testing.T, addr string) int {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	p, err := strconv.Atoi(addr[i+1:])
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return p
}

// relWantEIO fails t unless r failed with "Input/output error", never
// "No such file or directory".
func relWantEIO(t *testing.T, what string, r relResult) {
	t.Helper()
	if r.err != nil {
		t.Errorf("%s: %v", what, r.err)
		return
	}
	if r.code == 0 {
		t.Errorf("%s succeeded (%q), want Input/output error", what, r.stdout)
	}
	if !strings.Contains(r.stderr, "Input/output error") || strings.Contains(r.stderr, "No such file") {
		t.Errorf("%s: stderr %q, want Input/output error", what, r.stderr)
	}
}

// relWantOK fails t unless r succeeded with stdout want ("" for any).
func relWantOK(t *testing.T, what string, r relResult, want string) bool {
	t.Helper()
	switch {
	case r.err != nil:
		t.Errorf("%s: %v", what, r.err)
	case r.code != 0:
		t.Errorf("%s: exit %d, stderr %q", what, r.code, r.stderr)
	case want != "" && r.stdout != want:
		t.Errorf("%s: got %q, want %q", what, r.stdout, want)
	default:
		return true
	}
	return false
}

// relWriteStats returns owserver's counts of device writes received and
// accepted: a write owserver accepted moves success, whatever the tester
// does with the value.
func relWriteStats(t *testing.T, addr string) (calls, success int) {
	t.Helper()
	for _, p := range []struct {
		name string
		n    *int
	}{{"calls", &calls}, {"success", &success}} {
		v, err := strconv.Atoi(owreadTrimmed(t, addr, "/statistics/write/"+p.name))
		if err != nil {
			t.Fatal(err)
		}
		*p.n = v
	}
	return calls, success
}

// relReadAll reads every path at once through the mount and returns the
// first error.
func relReadAll(paths []string) error {
	errs := make(chan error, len(paths))
	for _, p := range paths {
		go func() {
			_, err := os.ReadFile(p)
			errs <- err
		}()
	}
	var first error
	for range paths {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// TestReliabilityServerKilled: owserver killed with SIGKILL under a mount.
// cat and ls fail with EIO (never ENOENT) within the mount's timeout and
// nothing hangs; once owserver is back on the same port the very first
// cat succeeds, without a remount.
func TestReliabilityServerKilled(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	const timeout = 2 * time.Second
	srv := owtest.StartOwserver(t, "--tester", "10,28")
	// volatile_ttl=0 and dir_ttl=0: every call reaches owserver, so the
	// failures are owfuse's answers, not the cache's.
	mnt := mountOrFatal(t, srv.Addr, "-o", "timeout="+timeout.String()+",volatile_ttl=0,dir_ttl=0")
	temp := filepath.Join(mnt, tester10, "temperature")
	dev := filepath.Join(mnt, tester28)
	want := relExec("cat", temp)
	if !relWantOK(t, "cat before the kill", want, "") {
		t.FailNow()
	}
	relWantOK(t, "ls before the kill", relExec("ls", dev), "")

	srv.Stop() // SIGKILL, and waits for the exit
	catDown := relExec("cat", temp)
	relWantEIO(t, "cat with owserver killed", catDown)
	lsDown := relExec("ls", dev)
	relWantEIO(t, "ls with owserver killed", lsDown)
	for what, r := range map[string]relResult{"cat": catDown, "ls": lsDown} {
		if r.elapsed > timeout+time.Second {
			t.Errorf("%s with owserver killed took %v, want at most the mount's timeout %v", what, r.elapsed, timeout)
		}
	}
	relFigure(t, "killed_owserver_cat_fails_after", relMs(catDown.elapsed))
	relFigure(t, "killed_owserver_ls_fails_after", relMs(lsDown.elapsed))

	restarted := time.Now()
	owtest.StartOwserverAt(t, srv.Addr, "--tester", "10,28")
	answered := time.Now()
	first := relExec("cat", temp)
	if first.err != nil || first.code != 0 || first.stdout != want.stdout {
		t.Errorf("first cat after owserver answered again (%v after the restart): exit %d, stdout %q, stderr %q (err %v); want %q: the mount must recover at once",
			answered.Sub(restarted), first.code, first.stdout, first.stderr, first.err, want.stdout)
		// How long it does take, for the report.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if r := relExec("cat", temp); r.code == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
		}
	}
	relFigure(t, "restarted_owserver_first_cat_ok_after", relMs(time.Since(answered)))
	relWantOK(t, "ls after the restart", relExec("ls", dev), "")
	relWantOK(t, "cat after the restart", relExec("cat", temp), want.stdout)
}

// TestReliabilityServerStopped: owserver stopped with SIGSTOP while cats
// run. Each fails with EIO after about the mount's timeout; SIGCONT
// restores service; owfuse keeps no socket, descriptor or goroutine from
// the stuck requests.
func TestReliabilityServerStopped(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	const timeout = 2 * time.Second
	const poolSize = 8 // owfuse's default
	srv := owtest.StartOwserver(t, "--tester", "10,28")
	metrics := relFreeAddr(t)
	dir := t.TempDir()
	m := startMount(t, srv.Addr, dir, "-o", "timeout="+timeout.String()+",volatile_ttl=0,metrics_listen="+metrics)
	pid, port := m.cmd.Process.Pid, relPort(t, srv.Addr)
	paths := []string{
		filepath.Join(dir, tester10, "temperature"),
		filepath.Join(dir, tester28, "temperature"),
		filepath.Join(dir, "uncached", tester10, "temperature"),
		filepath.Join(dir, "uncached", tester28, "temperature"),
	}
	// Warm up with the same concurrency as below: lookups are cached by
	// the kernel and the pool holds its sockets.
	for range 3 {
		if err := relReadAll(paths); err != nil {
			t.Fatal(err)
		}
	}
	// Descriptors: sockets to owserver (the pool), go-fuse's splice pipes
	// (a pool too, as large as the most replies spliced at once), and the
	// rest, less the metrics endpoint's own connections (each scrape
	// opens one).
	metricsPort := relPort(t, metrics)
	fds := func() (other, pipes, toServer int) {
		total, states, err := relSockets(pid, func(local, remote int) bool { return remote == port || local == metricsPort })
		if err != nil {
			t.Fatal(err)
		}
		if _, toServer, err = relFDs(pid, port); err != nil {
			t.Fatal(err)
		}
		for _, n := range states {
			total -= n
		}
		for _, l := range relFDLinks(pid) {
			if strings.HasPrefix(l, "pipe:") {
				pipes++
			}
		}
		return total - pipes, pipes, toServer
	}
	fdsBefore, pipesBefore, socksBefore := fds()
	linksBefore := relFDLinks(pid)
	goBefore := relMetric(t, metrics, "go_goroutines")

	if err := srv.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	results := make([]relResult, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() { results[i] = relExec("cat", p) })
	}
	wg.Wait()
	var slowest time.Duration
	for i, r := range results {
		relWantEIO(t, "cat with owserver stopped", r)
		if r.elapsed < timeout-250*time.Millisecond || r.elapsed > timeout+1500*time.Millisecond {
			t.Errorf("cat %s with owserver stopped failed after %v, want about the timeout %v", paths[i], r.elapsed, timeout)
		}
		slowest = max(slowest, r.elapsed)
	}
	relFigure(t, "stopped_owserver_cat_fails_after", relMs(slowest)+" (timeout=2s)")

	if err := srv.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	// A failure is remembered for 250ms (cache.failMemo), so the first
	// cat may still fail: poll.
	var last relResult
	for deadline := time.Now().Add(5 * time.Second); ; {
		if last = relExec("cat", paths[0]); last.code == 0 && last.err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful cat within 5s of SIGCONT: %q %v", last.stderr, last.err)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
	relFigure(t, "stopped_owserver_first_cat_ok_after_sigcont", relMs(time.Since(resumed)))
	for range 3 {
		if err := relReadAll(paths); err != nil {
			t.Errorf("read after SIGCONT: %v", err)
		}
	}

	// Descriptors: the same as before, except sockets to owserver, of
	// which there are at most pool_size. Goroutines: back to about what
	// they were (go-fuse keeps a few readers). Poll: closing is not
	// instantaneous.
	var fdsAfter, pipesAfter, socksAfter int
	var goAfter float64
	for deadline := time.Now().Add(5 * time.Second); ; {
		fdsAfter, pipesAfter, socksAfter = fds()
		goAfter = relMetric(t, metrics, "go_goroutines")
		ok := fdsAfter <= fdsBefore && pipesAfter <= pipesBefore+2*len(paths) && socksAfter <= poolSize && goAfter <= goBefore+10
		if ok || time.Now().After(deadline) {
			if !ok {
				t.Errorf("owfuse leaks: %d descriptors besides sockets and pipes before, %d after; %d pipe ends before, %d after; %d sockets to owserver before, %d after (pool_size %d); goroutines %v before, %v after\nbefore: %q\nafter:  %q",
					fdsBefore, fdsAfter, pipesBefore, pipesAfter, socksBefore, socksAfter, poolSize, goBefore, goAfter, linksBefore, relFDLinks(pid))
			}
			break
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	relFigure(t, "stopped_owserver_fds_before_after", fmt.Sprintf("%d/%d besides sockets and pipes; splice pipe ends %d/%d; owserver sockets %d/%d (pool_size %d)", fdsBefore, fdsAfter, pipesBefore, pipesAfter, socksBefore, socksAfter, poolSize))
	relFigure(t, "stopped_owserver_goroutines_before_after", fmt.Sprintf("%v/%v", goBefore, goAfter))
}

// TestReliabilityIdleSocketsClosed: owserver closes persistent sockets
// after one idle second; reads separated by longer pauses never see an
// error, because owfuse finds the closed socket or resends on a new one.
func TestReliabilityIdleSocketsClosed(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	srv := owtest.StartOwserver(t, "--tester", "10,28", "--timeout_persistent_low", "1", "--timeout_persistent_high", "1")
	dir := t.TempDir()
	m := startMount(t, srv.Addr, dir, "-o", "volatile_ttl=0,debug")
	pid, port := m.cmd.Process.Pid, relPort(t, srv.Addr)
	var paths []string
	for _, dev := range []string{tester10, tester28} {
		for _, p := range []string{dev + "/temperature", "/uncached" + dev + "/temperature", dev + "/temphigh"} {
			paths = append(paths, filepath.Join(dir, p))
		}
	}
	const rounds = 4
	start := time.Now()
	reads, closedByServer := 0, 0
	for round := range rounds {
		if round > 0 {
			// The idle time under test: longer than owserver's 1s
			// persistence timeout, so it closes every pooled socket.
			time.Sleep(1300 * time.Millisecond)
			_, states, err := relSockets(pid, func(local, remote int) bool { return remote == port })
			if err != nil {
				t.Fatal(err)
			}
			closedByServer += states["08"] // CLOSE_WAIT: owserver closed it, owfuse has not yet
		}
		for range 2 {
			if err := relReadAll(paths); err != nil {
				t.Errorf("round %d: %v", round, err)
			}
			reads += len(paths)
		}
	}
	if closedByServer == 0 {
		t.Errorf("owserver closed none of owfuse's idle sockets: the test tested nothing")
	}
	relFigure(t, "idle_closed_sockets_reads_without_error", fmt.Sprintf("%d over %v", reads, time.Since(start).Round(100*time.Millisecond)))
	relFigure(t, "idle_closed_sockets_met", fmt.Sprintf("%d sockets closed by owserver while idle, %d requests resent", closedByServer, strings.Count(m.stderr.String(), "closed an idle connection; resending")))
}

// TestReliabilityPersistenceLimit: owserver grants persistence to two
// clients only; 32 readers at once through the mount all succeed.
func TestReliabilityPersistenceLimit(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	srv := owtest.StartOwserver(t, "--tester", "10,28", "--clients_persistent_high", "2")
	mnt := t.TempDir()
	m := startMount(t, srv.Addr, mnt, "-o", "volatile_ttl=0")
	var paths []string
	for _, dev := range []string{tester10, tester28} {
		paths = append(paths, filepath.Join(mnt, "uncached", dev, "temperature"), filepath.Join(mnt, "uncached", dev, "id"), filepath.Join(mnt, dev, "temperature"))
	}
	want := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want[p] = string(b)
	}
	const readers, each = 32, 50
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	start := time.Now()
	for r := range readers {
		wg.Go(func() {
			for i := range each {
				p := paths[(r+i)%len(paths)]
				b, err := os.ReadFile(p)
				if err != nil || string(b) != want[p] {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s: %q %v", p, b, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(failures) > 0 {
		t.Errorf("%d of %d reads failed with persistence limited to 2 clients; first: %s", len(failures), readers*each, failures[0])
	}
	_, kept, err := relFDs(m.cmd.Process.Pid, relPort(t, srv.Addr))
	if err != nil {
		t.Fatal(err)
	}
	// Without the limit owfuse keeps pool_size (8) sockets here.
	if kept > 2 {
		t.Errorf("owfuse kept %d sockets to owserver: persistence was granted to more than 2, so the limit was never reached", kept)
	}
	relFigure(t, "persistence_limit_2_reads_per_second", fmt.Sprintf("%.0f (%d readers x %d, %d errors, %d sockets kept)", float64(readers*each)/elapsed.Seconds(), readers, each, len(failures), kept))
}

// TestReliabilityPingcrazy: an owserver that sends keepalive frames
// before every reply. Reads and listings work, and owfuse's debug trace
// shows it skipped them.
func TestReliabilityPingcrazy(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	srv := owtest.StartOwserver(t, "--fake", "10,28", "--pingcrazy")
	dir := t.TempDir()
	m := startMount(t, srv.Addr, dir, "-o", "debug,volatile_ttl=0")
	for _, p := range []string{fake10 + "/temperature", "/uncached" + fake10 + "/temperature", fake10 + "/temphigh"} {
		r := relExec("cat", filepath.Join(dir, p))
		if relWantOK(t, "cat "+p, r, "") {
			if _, err := strconv.ParseFloat(strings.TrimSuffix(r.stdout, "\n"), 64); err != nil {
				t.Errorf("cat %s: %q is not a number", p, r.stdout)
			}
		}
	}
	if r := relExec("cat", filepath.Join(dir, fake10, "family")); relWantOK(t, "cat family", r, "10\n") {
		relWantOK(t, "ls device", relExec("ls", filepath.Join(dir, fake10)), "")
	}
	if n := strings.Count(m.stderr.String(), "keepalive skipped"); n == 0 {
		t.Errorf("--pingcrazy: the debug trace shows no \"keepalive skipped\"; stderr:\n%s", m.stderr.String())
	} else {
		relFigure(t, "pingcrazy_keepalives_skipped", n)
	}
}

// relWriteRecord is one write by a writer, and what owserver held after it.
type relWriteRecord struct {
	writer, i int
	value     string
	err       error     // the write's
	done      time.Time // when the write returned
	readStart time.Time // when the read-back started
	readBack  string    // owread's answer after the write returned
}

// relWriteMessages returns how many MSG_WRITE owfuse has sent.
func relWriteMessages(t *testing.T, metrics string) float64 {
	t.Helper()
	m, err := relMetrics(metrics)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	var n float64
	for k, v := range m {
		if strings.HasPrefix(k, "owfuse_owserver_messages_total{") && strings.Contains(k, `type="WRITE"`) {
			n += v
		}
	}
	return n
}

// TestReliabilityConcurrentWrites: 8 writers set distinct values through
// the mount at once, each reading owserver's value back with owread after
// every write. Every write is one MSG_WRITE and nothing else is sent. No
// value is ever merged or invented: every read is the initial value (and
// only until the first write is done) or one that was written
// successfully. A writer never reads back an older value of its own (no
// write is lost or replayed late), and the final value is one of the
// successful writes. The same holds for device aliases, where the device
// is then listed under exactly one name. Half the writers open with
// O_TRUNC for every value, as a shell's `echo V > F` does; the others
// write through a handle they keep open.
func TestReliabilityConcurrentWrites(t *testing.T) {
	t.Parallel()
	const writers = 8
	each := 12
	if testing.Short() || relRace {
		each = 6
	}
	t.Run("setting", func(t *testing.T) {
		t.Parallel()
		requireFUSE(t)
		addr := startTester(t)
		metrics := relFreeAddr(t)
		mnt := mountOrFatal(t, addr, "-o", "metrics_listen="+metrics)
		f := filepath.Join(mnt, volatile)
		initial := owreadTrimmed(t, addr, volatile)
		sentBefore := relWriteMessages(t, metrics)
		recs := relConcurrentWrites(t, writers, each,
			func(w, i int) string { return strconv.Itoa(100 + w*1000 + i) },
			func(w int) func(string) error {
				if w%2 == 0 {
					return func(v string) error { return os.WriteFile(f, []byte(v+"\n"), 0) }
				}
				return func(v string) error {
					r := relEcho(false, v, f)
					if r.err != nil || r.code != 0 || r.stderr != "" {
						return fmt.Errorf("sh: echo %s > %s: exit %d, stderr %q, %v", v, f, r.code, r.stderr, r.err)
					}
					return nil
				}
			},
			func() (string, error) {
				r := relExec("owread", "-s", addr, volatile)
				if r.err != nil || r.code != 0 {
					return "", fmt.Errorf("owread: exit %d, %q %v", r.code, r.stderr, r.err)
				}
				return strings.TrimSpace(r.stdout), nil
			})
		relCheckWrites(t, recs, initial, owreadTrimmed(t, addr, volatile), false)
		relCheckWriteMessages(t, metrics, sentBefore, writers*each)
		if got := mustRun(t, "cat", f); strings.TrimSuffix(got, "\n") != owreadTrimmed(t, addr, volatile) {
			t.Errorf("cat %s after the writers: %q, owserver has %q", volatile, got, owreadTrimmed(t, addr, volatile))
		}
	})
	t.Run("alias", func(t *testing.T) {
		t.Parallel()
		requireFUSE(t)
		addr := startTester(t)
		metrics := relFreeAddr(t)
		mnt := mountOrFatal(t, addr, "-o", "metrics_listen="+metrics)
		aliasPath := tester10 + "/alias"
		initial := owreadRaw(t, addr, aliasPath)
		// The first write renames the device directory, so writers hold on
		// to it (or to the alias file itself) from before the first write.
		dev, err := os.Open(filepath.Join(mnt, tester10))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dev.Close() }) // before the unmount
		files := make([]*os.File, writers)
		for w := 1; w < writers; w += 2 {
			f, err := os.OpenFile(filepath.Join(mnt, aliasPath), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			files[w] = f
		}
		sentBefore := relWriteMessages(t, metrics)
		recs := relConcurrentWrites(t, writers, each,
			func(w, i int) string { return fmt.Sprintf("w%dn%02d", w, i) },
			func(w int) func(string) error {
				if w%2 == 0 {
					// open(O_WRONLY|O_TRUNC), write, close: `echo V > alias`.
					return func(v string) error {
						fd, err := syscall.Openat(int(dev.Fd()), "alias", syscall.O_WRONLY|syscall.O_TRUNC|syscall.O_CLOEXEC, 0)
						if err != nil {
							return fmt.Errorf("open: %w", err)
						}
						_, err = syscall.Write(fd, []byte(v+"\n"))
						if cerr := syscall.Close(fd); err == nil && cerr != nil {
							err = fmt.Errorf("close: %w", cerr)
						}
						return err
					}
				}
				return func(v string) error {
					_, err := files[w].WriteAt([]byte(v+"\n"), 0)
					return err
				}
			},
			func() (string, error) {
				r := relExec("owread", "-s", addr, aliasPath)
				if r.err != nil || r.code != 0 {
					return "", fmt.Errorf("owread: exit %d, %q %v", r.code, r.stderr, r.err)
				}
				return r.stdout, nil
			})
		for _, f := range files {
			if f != nil {
				if err := f.Close(); err != nil {
					t.Errorf("close alias: %v", err)
				}
			}
		}
		// Closing sends nothing after the writes: the final value is what
		// owserver holds once every handle is released, which a last
		// (written) value proves.
		final := owreadRaw(t, addr, aliasPath)
		relCheckWrites(t, recs, initial, final, true)
		relCheckWriteMessages(t, metrics, sentBefore, writers*each)
		// The root lists the device under its final alias only.
		ents, err := os.ReadDir(mnt)
		if err != nil {
			t.Fatal(err)
		}
		written := map[string]bool{}
		for _, rs := range recs {
			for _, r := range rs {
				written[r.value] = true
			}
		}
		var names []string
		for _, e := range ents {
			if written[e.Name()] || e.Name() == strings.TrimPrefix(tester10, "/") {
				names = append(names, e.Name())
			}
		}
		if len(names) != 1 || names[0] != final {
			t.Errorf("ls %s lists the device as %q, want exactly [%s]", mnt, names, final)
		}
		if got, err := os.ReadFile(filepath.Join(mnt, final, "family")); err != nil || string(got) != "10\n" {
			t.Errorf("%s/family: %q %v", final, got, err)
		}
	})
}

// relCheckWriteMessages fails t unless owfuse sent exactly want MSG_WRITE
// since before. (A message is counted before its FUSE call returns; one
// sent by a release the kernel has not delivered yet is missed, which can
// only hide an extra message, never invent one.)
func relCheckWriteMessages(t *testing.T, metrics string, before float64, want int) {
	t.Helper()
	sent := relWriteMessages(t, metrics) - before
	if sent != float64(want) {
		t.Errorf("owfuse sent %v MSG_WRITE for %d writes: each write must be exactly one message (extra ones are empty values from other handles' releases)", sent, want)
	}
}

// relConcurrentWrites runs writers goroutines, each writing each values
// with the writer's function and reading owserver's value back after every
// write; it returns every write in the order each writer made them.
func relConcurrentWrites(t *testing.T, writers, each int, value func(w, i int) string, writer func(w int) func(string) error, readBack func() (string, error)) [][]relWriteRecord {
	t.Helper()
	recs := make([][]relWriteRecord, writers)
	var wg sync.WaitGroup
	for w := range writers {
		write := writer(w)
		wg.Go(func() {
			for i := range each {
				rec := relWriteRecord{writer: w, i: i, value: value(w, i)}
				rec.err = write(rec.value)
				rec.done = time.Now()
				rec.readStart = time.Now()
				if rb, err := readBack(); err != nil {
					rec.readBack = "owread failed: " + err.Error()
				} else {
					rec.readBack = rb
				}
				recs[w] = append(recs[w], rec)
			}
		})
	}
	wg.Wait()
	return recs
}

// relCheckWrites checks the records of relConcurrentWrites against the
// rules of TestReliabilityConcurrentWrites.
//
// initialTransient says the server itself may show the initial value
// while it replaces another (owserver does for an alias: with four
// writers on one owclient it read back "" for 5 of 521 reads, no owfuse
// involved); the exact count of MSG_WRITE, checked apart, is then what
// proves that no write nobody made was sent.
func relCheckWrites(t *testing.T, recs [][]relWriteRecord, initial, final string, initialTransient bool) {
	t.Helper()
	type origin struct {
		writer, i int
		ok        bool
	}
	written := map[string]origin{}
	succeeded := 0
	var firstDone time.Time
	for _, rs := range recs {
		for _, r := range rs {
			written[r.value] = origin{r.writer, r.i, r.err == nil}
			if r.err == nil {
				succeeded++
				if firstDone.IsZero() || r.done.Before(firstDone) {
					firstDone = r.done
				}
			} else {
				t.Errorf("writer %d: write %q failed: %v", r.writer, r.value, r.err)
			}
		}
	}
	seen := map[string]bool{}
	for _, rs := range recs {
		for _, r := range rs {
			o, isWritten := written[r.readBack]
			switch {
			case r.readBack == initial && !isWritten:
				if !initialTransient && !firstDone.IsZero() && r.readStart.After(firstDone) {
					t.Errorf("writer %d read back the initial value %q after writing %q, when a write had succeeded before: a write nobody made (an empty value from a release?) put it back", r.writer, r.readBack, r.value)
				}
			case !isWritten:
				t.Errorf("writer %d read back %q after writing %q: neither the initial value %q nor any written value (merged or corrupted)", r.writer, r.readBack, r.value, initial)
			case !o.ok:
				t.Errorf("writer %d read back %q, a value whose write failed", r.writer, r.readBack)
			case o.writer == r.writer && o.i < r.i && r.err == nil:
				t.Errorf("writer %d read back its own older value %q after writing %q: a write was lost or replayed", r.writer, r.readBack, r.value)
			case o.writer == r.writer && o.i > r.i:
				t.Errorf("writer %d read back %q after writing %q: a value it had not written yet", r.writer, r.readBack, r.value)
			}
			seen[r.readBack] = true
		}
	}
	if o, ok := written[final]; !ok || !o.ok {
		t.Errorf("final value %q is not one of the successful writes", final)
	}
	observed := 0
	for v, o := range written {
		if o.ok && seen[v] {
			observed++
		}
	}
	relFigure(t, "concurrent_writes_"+t.Name()[strings.LastIndexByte(t.Name(), '/')+1:],
		fmt.Sprintf("%d writers, %d of %d writes ok, %d of them read back by someone, final %q", len(recs), succeeded, len(written), observed, final))
}

// TestReliabilityBadWrites: junk and empty values written through the
// mount are each refused with a clear errno, and owserver accepts none of
// them (its write success count stays put; --tester keeps
// its values whatever is written, so that count is the witness).
func TestReliabilityBadWrites(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t)
	const prop = tester10 + "/temphigh"
	f := filepath.Join(mnt, prop)
	// temphigh's structure size is 12: the junk fits, so owserver judges it.
	junk := []byte{0xff, 0x00, 0x13, 0x37, 0xfe, 0x00, 0x80, 0x7f}
	long := []byte{0xff, 0x00, 0x13, 0x37, 0xfe, 0x00, 0x80, 0x7f, 0x00, 0x01, 0xc3, 0x28, 0x00, 0x9d, 0xe2, 0x82, 0x00}
	tests := []struct {
		name  string
		value []byte
		want  []syscall.Errno
	}{
		{"binary junk with NULs", junk, []syscall.Errno{syscall.EINVAL}},
		// owserver reads the number and ignores the rest: the value would
		// be cut short, silently.
		{"number followed by NUL and junk", append([]byte("21\x00"), junk[:6]...), []syscall.Errno{syscall.EINVAL}},
		{"longer binary junk", long, []syscall.Errno{syscall.EINVAL}},
		// (300 digits are no junk: owserver takes them, as owwrite shows;
		// TestProgramsValuesOwwriteAccepts.)
		// open(O_WRONLY|O_TRUNC) and close: the empty value, which
		// owserver refuses for a temperature.
		{"empty", nil, []syscall.Errno{syscall.EINVAL}},
	}
	for _, tt := range tests {
		before := owreadRaw(t, addr, prop)
		_, okBefore := relWriteStats(t, addr)
		fh, err := os.OpenFile(f, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatalf("%s: open: %v", tt.name, err)
		}
		if len(tt.value) > 0 {
			_, err = fh.Write(tt.value)
		}
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		got := relErrno(err)
		if !relHasErrno(tt.want, got) {
			t.Errorf("%s to temphigh: write/close returned %v (errno %d), want one of %v", tt.name, err, got, tt.want)
		}
		if after := owreadRaw(t, addr, prop); after != before {
			t.Errorf("%s: temphigh changed from %q to %q", tt.name, before, after)
		}
		_, okAfter := relWriteStats(t, addr)
		if okAfter != okBefore {
			t.Errorf("%s: owserver accepted %d write(s) of it", tt.name, okAfter-okBefore)
		}
	}
}

func relHasErrno(list []syscall.Errno, e syscall.Errno) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// TestReliabilityOddNames: names with commas, spaces, bytes that are not
// UTF-8, 300 characters, and `..` games. Each gets a clear errno or the
// value of the plain path; names in listed directories are answered
// without asking owserver, and nothing is written.
func TestReliabilityOddNames(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := startTester(t)
	metrics := relFreeAddr(t)
	// dir_ttl=1m: the listings stay cached for the whole test, so that any
	// owserver message below is owfuse's choice.
	mnt := mountOrFatal(t, addr, "-o", "dir_ttl=1m,metrics_listen="+metrics)
	dev := filepath.Join(mnt, tester10)
	temp := filepath.Join(dev, "temperature")
	want, err := os.ReadFile(temp)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := os.ReadFile(filepath.Join(mnt, volatile))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{mnt, dev} {
		if _, err := os.ReadDir(d); err != nil {
			t.Fatal(err)
		}
	}
	callsBefore, okBefore := relWriteStats(t, addr)
	// The listings above read device directories ahead in the background;
	// on a busy machine that can take a while.
	sentBefore := relSettled(t, metrics)

	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		name string
		path string
		want []syscall.Errno
	}{
		{"comma in a device name", filepath.Join(mnt, "10.000010EF0000,28.000028D70100"), []syscall.Errno{syscall.ENOENT}},
		{"comma in a property name", filepath.Join(dev, "temperature,temphigh"), []syscall.Errno{syscall.ENOENT}},
		{"space inside", filepath.Join(dev, "tempe rature"), []syscall.Errno{syscall.ENOENT}},
		{"leading space", filepath.Join(dev, " temperature"), []syscall.Errno{syscall.ENOENT}},
		{"trailing space", filepath.Join(dev, "temperature "), []syscall.Errno{syscall.ENOENT}},
		{"not UTF-8 at the root", filepath.Join(mnt, "\xff\xfe"), []syscall.Errno{syscall.ENOENT}},
		{"not UTF-8 in a device", filepath.Join(dev, "temp\xe9rature"), []syscall.Errno{syscall.ENOENT}},
		{"300 characters at the root", filepath.Join(mnt, long), []syscall.Errno{syscall.ENAMETOOLONG, syscall.ENOENT}},
		{"300 characters in a device", filepath.Join(dev, long), []syscall.Errno{syscall.ENAMETOOLONG, syscall.ENOENT}},
		{"dots in a name", filepath.Join(dev, "...temperature"), []syscall.Errno{syscall.ENOENT}},
		{"backslash", filepath.Join(mnt, `10.000010EF0000\temperature`), []syscall.Errno{syscall.ENOENT}},
		{"file as a directory", temp + "/..", []syscall.Errno{syscall.ENOTDIR}},
		{"under a file", temp + "/x", []syscall.Errno{syscall.ENOTDIR}},
		{"file with a trailing slash", temp + "/", []syscall.Errno{syscall.ENOTDIR}},
	} {
		_, err := os.ReadFile(c.path)
		if got := relErrno(err); !relHasErrno(c.want, got) {
			t.Errorf("%s: read: %v, want errno in %v", c.name, err, c.want)
		}
		// O_CREAT of a name owserver does not list: refused, not created.
		err = os.WriteFile(c.path, []byte("1\n"), 0o644)
		if got := relErrno(err); err == nil || got == syscall.EIO || got == 0 {
			t.Errorf("%s: write: %v, want a clear refusal", c.name, err)
		}
	}
	if sent := relMessages(t, metrics); !maps.Equal(sent, sentBefore) {
		t.Errorf("odd names in cached directories sent owserver messages, want none: before %v, after %v", sentBefore, sent)
	}

	// `..` resolves in the kernel: these are the plain paths.
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dev) + "/../" + tester10[1:] + "/temperature", string(want)},
		{dev + "/./temperature", string(want)},
		{dev + "//temperature", string(want)},
		{mnt + "/uncached/.." + tester10 + "/temperature", string(want)},
		{dev + "/../settings/timeout/volatile", string(settings)},
		{dev + "/errata/../../settings/timeout/volatile", string(settings)},
	} {
		if got, err := os.ReadFile(c.path); err != nil || string(got) != c.want {
			t.Errorf("read %q: %q %v, want %q", c.path, got, err, c.want)
		}
	}
	// Under uncached/ listings are not cached: owserver is asked, and says no.
	for _, p := range []string{"uncached/10.000010EF0000/temperature,temphigh", "uncached/10.000010EF0000/tempe rature", "uncached/" + long} {
		if _, err := os.ReadFile(filepath.Join(mnt, p)); !relHasErrno([]syscall.Errno{syscall.ENOENT, syscall.ENAMETOOLONG}, relErrno(err)) {
			t.Errorf("read %q: %v, want ENOENT", p, err)
		}
	}
	if calls, ok := relWriteStats(t, addr); calls != callsBefore || ok != okBefore {
		t.Errorf("owserver received %d device writes (%d accepted) from odd names, want none", calls-callsBefore, ok-okBefore)
	}
	if got := strings.TrimSpace(owreadRaw(t, addr, volatile)) + "\n"; got != string(settings) {
		t.Errorf("%s changed from %q to %q", volatile, settings, got)
	}
}

// relMountDir returns a new mountpoint whose parents every user may
// traverse (t.TempDir's are 0700, which would deny other users whatever
// the mount says). It is removed after the mount is stopped.
func relMountDir(t *testing.T) string {
	t.Helper()
	parent, err := os.MkdirTemp("", "owfuse-rel-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) }) // runs after the mount's own cleanup
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// relAsNobody runs a program as uid and gid 65534 with no groups.
func relAsNobody(name string, args ...string) relResult {
	return relExec("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", name}, args...)...)
}

// relEcho is `sh -c 'echo VALUE > FILE'`, as root or as nobody.
func relEcho(asNobody bool, value, file string) relResult {
	args := []string{"-c", `echo "$1" > "$2"`, "sh", value, file}
	if asNobody {
		return relAsNobody("sh", args...)
	}
	return relExec("sh", args...)
}

// relRefused fails t unless r failed with text on stderr.
func relRefused(t *testing.T, what string, r relResult, text string) {
	t.Helper()
	if r.err != nil || r.code == 0 || !strings.Contains(r.stderr, text) {
		t.Errorf("%s: exit %d, stderr %q (%v), want %q", what, r.code, r.stderr, r.err, text)
	}
}

// TestReliabilitySecurity: who may do what through a mount. A default
// mount serves only its owner; allow_other lets everyone read but only the
// owner write (default_permissions is implied); ro refuses every write;
// read-only and write-only properties hold for root too.
func TestReliabilitySecurity(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	owtest.Require(t, "setpriv", "owread")
	if os.Geteuid() != 0 {
		if owtest.InCI() {
			t.Fatal("needs root, to mount and to become another user (CI=true: this fails the run)")
		}
		t.Skip("needs root, to mount and to become another user")
	}
	addr := owtest.StartOwserver(t, "--tester", "10,28,29").Addr
	const wo = "/29.000029D60200/out_of_testmode" // the one write-only property of --tester's families
	temp, temphigh := tester10+"/temperature", tester10+"/temphigh"
	wantTemp := owreadTrimmed(t, addr, temp) + "\n"
	const denied = "Permission denied"
	callsBefore, _ := relWriteStats(t, addr)
	allowedWrites := 0

	t.Run("default", func(t *testing.T) {
		dir := relMountDir(t)
		m := startMount(t, addr, dir)
		for _, e := range mounts(t, dir) {
			if strings.Contains(e.options, "allow_other") {
				t.Errorf("a default mount has allow_other: %s", e.options)
			}
		}
		// The parent is open to nobody: the refusals below are the mount's.
		relWantOK(t, "nobody: ls the mountpoint's parent", relAsNobody("ls", filepath.Dir(dir)), "mnt\n")
		relRefused(t, "nobody: cat temperature", relAsNobody("cat", filepath.Join(dir, temp)), denied)
		relRefused(t, "nobody: ls the mount", relAsNobody("ls", dir), denied)
		relRefused(t, "nobody: echo > temphigh", relEcho(true, "30", filepath.Join(dir, temphigh)), denied)
		relWantOK(t, "root: cat temperature", relExec("cat", filepath.Join(dir, temp)), wantTemp)
		relCheckModeRules(t, dir, temp, wo)
		m.stop(t, syscall.SIGTERM)
	})
	t.Run("allow_other", func(t *testing.T) {
		dir := relMountDir(t)
		m := startMount(t, addr, dir, "-o", "allow_other")
		for _, e := range mounts(t, dir) {
			if !strings.Contains(e.options, "allow_other") || !strings.Contains(e.options, "default_permissions") {
				t.Errorf("-o allow_other mount options %q, want allow_other and default_permissions", e.options)
			}
		}
		fi, err := os.Stat(filepath.Join(dir, temphigh))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o644 || st.Uid != 0 || st.Gid != 0 {
			t.Errorf("temphigh: mode %v owner %d:%d, want -rw-r--r-- root:root", fi.Mode(), st.Uid, st.Gid)
		}
		relWantOK(t, "nobody: cat temperature", relAsNobody("cat", filepath.Join(dir, temp)), wantTemp)
		relWantOK(t, "nobody: cat temphigh", relAsNobody("cat", filepath.Join(dir, temphigh)), "")
		relWantOK(t, "nobody: ls device", relAsNobody("ls", filepath.Join(dir, tester10)), "")
		relRefused(t, "nobody: echo > temphigh", relEcho(true, "30", filepath.Join(dir, temphigh)), denied)
		relRefused(t, "nobody: echo > setting", relEcho(true, "30", filepath.Join(dir, volatile)), denied)
		relRefused(t, "nobody: echo > alias", relEcho(true, "x", filepath.Join(dir, tester10, "alias")), denied)
		relRefused(t, "nobody: cat write-only", relAsNobody("cat", filepath.Join(dir, wo)), denied)
		relWantOK(t, "root: echo > temphigh", relEcho(false, "31", filepath.Join(dir, temphigh)), "")
		allowedWrites++
		relCheckModeRules(t, dir, temp, wo)
		m.stop(t, syscall.SIGTERM)
	})
	t.Run("ro", func(t *testing.T) {
		dir := relMountDir(t)
		m := startMount(t, addr, dir, "-o", "ro,allow_other")
		for _, p := range []string{temphigh, volatile, tester10 + "/alias"} {
			relRefused(t, "root: echo > "+p, relEcho(false, "32", filepath.Join(dir, p)), "Read-only file system")
			if f, err := os.OpenFile(filepath.Join(dir, p), os.O_WRONLY, 0); !errors.Is(err, syscall.EROFS) {
				t.Errorf("open %s for writing on a ro mount: %v, want EROFS", p, err)
				if err == nil {
					f.Close()
				}
			}
		}
		relRefused(t, "nobody: echo > temphigh", relEcho(true, "32", filepath.Join(dir, temphigh)), "Read-only file system")
		relWantOK(t, "nobody: cat temperature", relAsNobody("cat", filepath.Join(dir, temp)), wantTemp)
		m.stop(t, syscall.SIGTERM)
	})
	if calls, _ := relWriteStats(t, addr); calls != callsBefore+allowedWrites {
		t.Errorf("owserver received %d device writes, want %d (root's one allowed write)", calls-callsBefore, allowedWrites)
	}
}

// relCheckModeRules: on the mount at dir, root cannot write the read-only
// property ro nor read the write-only property wo, and the modes say so.
func relCheckModeRules(t *testing.T, dir, ro, wo string) {
	t.Helper()
	for _, c := range []struct {
		path string
		flag int
		mode os.FileMode
	}{{ro, os.O_WRONLY, 0o444}, {ro, os.O_RDWR, 0o444}, {wo, os.O_RDONLY, 0o200}, {wo, os.O_RDWR, 0o200}} {
		p := filepath.Join(dir, c.path)
		if f, err := os.OpenFile(p, c.flag, 0); !errors.Is(err, syscall.EACCES) {
			t.Errorf("root: open %s with flags %#o: %v, want EACCES", c.path, c.flag, err)
			if err == nil {
				f.Close()
			}
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != c.mode {
			t.Errorf("%s: mode %v (%v), want %v", c.path, fi.Mode(), err, c.mode)
		}
	}
	r := relExec("sh", "-c", `echo 1 > "$1"`, "sh", filepath.Join(dir, ro))
	if r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("root: echo 1 > %s: exit %d, stderr %q, want Permission denied", ro, r.code, r.stderr)
	}
	if r := relExec("cat", filepath.Join(dir, wo)); r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("root: cat %s: exit %d, stderr %q, want Permission denied", wo, r.code, r.stderr)
	}
	// Open for writing works: nothing is written without data.
	f, err := os.OpenFile(filepath.Join(dir, wo), os.O_WRONLY, 0)
	if err != nil {
		t.Errorf("root: open %s for writing: %v", wo, err)
	} else if err := f.Close(); err != nil {
		t.Errorf("root: close %s: %v", wo, err)
	}
}
