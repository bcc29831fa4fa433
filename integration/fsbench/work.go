package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/owfuse/owfuse/owclient"
)

// A read pattern is what a reader does with one open of a property.
type pattern struct {
	name string
	read func(path string, buf []byte) error
}

var (
	// readOne is one read(2) of 4 KiB per open, then close: a program
	// that knows the value is short.
	readOne = pattern{"one read per open", func(path string, buf []byte) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		if _, err := f.Read(buf); err != nil && err != io.EOF {
			f.Close()
			return err
		}
		return f.Close()
	}}
	// readToEOF is what cat, Go's os.ReadFile and Python's read() do:
	// read until a read returns 0 bytes. (os.ReadFile would add an fstat.)
	readToEOF = pattern{"read until EOF", func(path string, buf []byte) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		for {
			_, err := f.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return err
			}
		}
		return f.Close()
	}}
)

// pythonReader is a Python program that does what scripts do, `with
// open(path) as f: f.read()`, in THREADS threads for SECONDS, and prints
// the reads that succeeded, those that failed, the seconds it took and
// its first error. Its start-up is not timed.
const pythonReader = `
import sys, threading, time
path, threads, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ops, errs, first = [0] * threads, [0] * threads, []
go, stop = threading.Barrier(threads + 1), threading.Event()
def work(i):
    go.wait()
    while not stop.is_set():
        try:
            with open(path) as f:
                f.read()
            ops[i] += 1
        except OSError as e:
            errs[i] += 1
            first.append(str(e))
ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
for t in ts:
    t.start()
go.wait()
t0 = time.monotonic()
time.sleep(secs)
stop.set()
for t in ts:
    t.join()
print(sum(ops), sum(errs), time.monotonic() - t0, (first or [""])[0])
`

// pythonLoop runs pythonReader with the interpreter python on path.
func pythonLoop(python, path string, threads int, d time.Duration) loopResult {
	out, err := exec.Command(python, "-c", pythonReader, path, strconv.Itoa(threads), strconv.FormatFloat(d.Seconds(), 'f', 3, 64)).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return loopResult{errs: 1, firstErr: fmt.Errorf("python reader: %w", err)}
	}
	var r loopResult
	var secs float64
	fields := strings.SplitN(strings.TrimSpace(string(out)), " ", 4)
	if len(fields) < 3 {
		return loopResult{errs: 1, firstErr: fmt.Errorf("python reader printed %q", out)}
	}
	r.ops, _ = strconv.ParseInt(fields[0], 10, 64)
	r.errs, _ = strconv.ParseInt(fields[1], 10, 64)
	secs, _ = strconv.ParseFloat(fields[2], 64)
	r.elapsed = time.Duration(secs * float64(time.Second))
	if r.errs > 0 && len(fields) == 4 {
		r.firstErr = errors.New(fields[3])
	}
	return r
}

// findPython is the path of the python3 interpreter itself, not of a
// version manager's shim that would start a shell every round, or "" when
// there is none.
func findPython() string {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// listLong does what `ls -l DIR` does to the filesystem: list, then
// lstat every entry.
func listLong(dir string) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range des {
		if _, err := os.Lstat(filepath.Join(dir, de.Name())); err != nil {
			return err
		}
	}
	return nil
}

// loopResult is one timed run of an operation.
type loopResult struct {
	ops, errs int64
	elapsed   time.Duration
	firstErr  error
}

func (r loopResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ops) / r.elapsed.Seconds()
}

// loop runs op in threads goroutines, started together, for d; it counts
// the operations that succeeded.
func loop(threads int, d time.Duration, op func(buf []byte) error) loopResult {
	var (
		stop  atomic.Bool
		ops   atomic.Int64
		errs  atomic.Int64
		first atomic.Pointer[error]
		ready sync.WaitGroup
		wg    sync.WaitGroup
	)
	start := make(chan struct{})
	for i := 0; i < threads; i++ {
		ready.Add(1)
		wg.Add(1)
		goSafe(func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			ready.Done()
			<-start
			for !stop.Load() {
				if err := op(buf); err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, &err)
					if errs.Load() > 1000 && ops.Load() == 0 {
						return // failing every time: no point going on
					}
					continue
				}
				ops.Add(1)
			}
		})
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	wg.Wait()
	timer.Stop()
	r := loopResult{ops: ops.Load(), errs: errs.Load(), elapsed: time.Since(t0)}
	if e := first.Load(); e != nil {
		r.firstErr = *e
	}
	return r
}

// burst starts n goroutines at once (a barrier), each doing op once, and
// returns how long it took until the last one finished.
func burst(n int, op func(buf []byte) error) (time.Duration, int, error) {
	var (
		ready, wg sync.WaitGroup
		errs      atomic.Int64
		first     atomic.Pointer[error]
	)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		ready.Add(1)
		wg.Add(1)
		goSafe(func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			ready.Done()
			<-start
			if err := op(buf); err != nil {
				errs.Add(1)
				first.CompareAndSwap(nil, &err)
			}
		})
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	wg.Wait()
	var err error
	if e := first.Load(); e != nil {
		err = *e
	}
	return time.Since(t0), int(errs.Load()), err
}

// walkResult is one tree walk.
type walkResult struct {
	devices, done, entries, errs int // done: device directories walked to the end
	dirs                         int // directories listed, the devices' included
	elapsed                      time.Duration
	capped                       bool
	firstErr                     error
}

// estimate is how long the whole walk would have taken: the time itself,
// or for a walk given up on, extrapolated from the devices it finished.
func (r walkResult) estimate() time.Duration {
	if !r.capped || r.devices == 0 {
		return r.elapsed
	}
	return time.Duration(float64(r.elapsed) * float64(r.devices) / float64(max(r.done, 1)))
}

// treeWalk does what `find DEVICE... -exec stat` does, for every device
// directory at root: walks it and lstats every entry, one at a time, the
// devices of different families taken in turn. A
// name listed as a directory whose lstat says otherwise is not descended
// into (owfs lists every entry as a directory). It gives up after limit.
func treeWalk(root string, limit time.Duration) (r walkResult) {
	t0 := time.Now()
	deadline := t0.Add(limit)
	defer func() { r.elapsed = time.Since(t0) }()
	fail := func(err error) {
		r.errs++
		if r.firstErr == nil {
			r.firstErr = err
		}
	}
	des, err := os.ReadDir(root)
	if err != nil {
		fail(err)
		return r
	}
	var devs []string
	for _, de := range des {
		if owclient.IsDeviceName(de.Name()) {
			devs = append(devs, de.Name())
		}
	}
	// Families differ in size (17 to 100 entries a device): mix them, so
	// that a walk given up on has done a fair sample of the bus and its
	// estimate holds.
	slices.SortFunc(devs, func(a, b string) int {
		return cmp.Or(cmp.Compare(a[3:], b[3:]), cmp.Compare(a[:2], b[:2]))
	})
	r.devices = len(devs)
	if r.devices == 0 {
		fail(errors.New("no device directories at the root"))
	}
	for _, dev := range devs {
		filepath.WalkDir(filepath.Join(root, dev), func(p string, d fs.DirEntry, err error) error {
			if time.Now().After(deadline) {
				r.capped = true
				return filepath.SkipAll
			}
			if err != nil {
				fail(err)
				return nil
			}
			fi, err := os.Lstat(p)
			r.entries++
			if err != nil {
				fail(err)
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() && !fi.IsDir() {
				return filepath.SkipDir
			}
			if fi.IsDir() {
				r.dirs++
			}
			return nil
		})
		if r.capped {
			break
		}
		r.done++
	}
	return r
}
