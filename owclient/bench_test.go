package owclient_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// BenchmarkRead measures Read against a real owserver, next to a minimal
// raw-socket loop that shows what the server itself can do. Every variant
// reports ops/s and CPU time per read of this process and of owserver.
// Names are key=value, so that benchstat can set owclient beside raw:
// `make bench` runs BENCHCOUNT rounds, each a fresh process, and prints
// `benchstat -col /impl` (median, confidence interval, and the ratio with
// its p-value). Speed targets live only there, never as assertions.
//
// All variants share one owserver, started once per benchmark process.
// OWBENCH_ROUND (set by make bench) rotates which implementation goes
// first, so that neither always runs on a colder or warmer machine.
func BenchmarkRead(b *testing.B) {
	srv := owtest.StartOwserver(b, benchServerArgs...)
	path := benchPath(b, srv.Addr)
	b.Logf("owserver %v on %s, reading %s", benchServerArgs, srv.Addr, path)
	impls := []string{"raw", "owclient"}
	if n, _ := strconv.Atoi(os.Getenv("OWBENCH_ROUND")); n%2 == 1 {
		impls[0], impls[1] = impls[1], impls[0]
	}
	for _, persistent := range []bool{true, false} {
		mode := "persistent"
		if !persistent {
			mode = "nonpersistent"
		}
		for _, g := range []int{1, 8} {
			for _, impl := range impls {
				b.Run(fmt.Sprintf("conn=%s/g=%d/impl=%s", mode, g, impl), func(b *testing.B) {
					if impl == "raw" {
						runParallel(b, srv, g, func() (func() error, func(), error) {
							return newRawReader(srv.Addr, path, persistent)
						})
						return
					}
					c, err := owclient.New(srv.Addr, owclient.Options{DisablePersistence: !persistent, PoolSize: max(g, owclient.DefaultPoolSize)})
					if err != nil {
						b.Fatal(err)
					}
					defer c.Close()
					ctx := context.Background()
					runParallel(b, srv, g, func() (func() error, func(), error) {
						return func() error {
							_, err := c.Read(ctx, path)
							return err
						}, func() {}, nil
					})
				})
			}
		}
	}
}

// benchServerArgs selects the simulated bus. --tester answers as fast as
// --fake (within noise: both cost owserver a thread per request) and its
// values are deterministic. OWBENCH_SERVER overrides it (e.g.
// OWBENCH_SERVER="--fake 10") to compare server modes.
var benchServerArgs = func() []string {
	if s := os.Getenv("OWBENCH_SERVER"); s != "" {
		return strings.Fields(s)
	}
	return []string{"--tester", "10"}
}()

// benchPath returns the property every variant reads: the temperature of
// the first DS18S20 on the bus (OWBENCH_PROP names another property).
func benchPath(b *testing.B, addr string) string {
	b.Helper()
	c, err := owclient.New(addr, owclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	entries, err := c.Dir(ctx, "/")
	if err != nil {
		b.Fatal(err)
	}
	prop := "temperature"
	if p := os.Getenv("OWBENCH_PROP"); p != "" {
		prop = p
	}
	for _, e := range entries {
		if strings.HasPrefix(e, "/10.") {
			path := strings.TrimSuffix(e, "/") + "/" + prop
			if _, err := c.Read(ctx, path); err != nil {
				b.Fatal(err)
			}
			return path
		}
	}
	b.Fatalf("no 10.* device in %v", entries)
	return ""
}

// runParallel runs b.N operations on g goroutines at once, each with an
// operation of its own from newOp, and reports ops/s. The goroutines claim
// operations from a shared counter, so g really is the number of
// concurrent requesters whatever GOMAXPROCS is. It also reports the CPU
// time per operation of this process (the client) and of owserver: on a
// small machine they compete for the same cores.
func runParallel(b *testing.B, srv *owtest.Owserver, g int, newOp func() (op func() error, done func(), err error)) {
	b.ReportAllocs()
	ops := make([]func() error, g)
	for i := range ops {
		op, done, err := newOp()
		if err != nil {
			b.Fatal(err)
		}
		defer done()
		ops[i] = op
	}
	// Warm up: one operation per goroutine at once, so that pools are
	// filled and sockets are open before the clock starts.
	if err := spread(g, g, ops); err != nil {
		b.Fatal(err)
	}
	pid := srv.Cmd.Process.Pid
	b.ResetTimer()
	client0, server0 := selfCPU(), owtest.ProcCPU(pid)
	err := spread(b.N, g, ops)
	client1, server1 := selfCPU(), owtest.ProcCPU(pid)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(client1-client0)/float64(b.N), "client-cpu-ns/op")
	if server0 >= 0 && server1 >= 0 {
		b.ReportMetric(float64(server1-server0)/float64(b.N), "server-cpu-ns/op")
	}
}

// selfCPU returns the user and system CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spread runs n operations on len(ops) goroutines and returns the first
// error.
func spread(n, g int, ops []func() error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, g)
	for i := range g {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := ops[i](); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// rawReader is the reference: a hand-written READ loop on one socket with
// no deadlines, no pooling and no allocation per request.
type rawReader struct {
	addr       string
	persistent bool
	req        []byte
	hdr        [24]byte
	buf        []byte
	nc         net.Conn
}

const rawPersistence = 0x4

func newRawReader(addr, path string, persistent bool) (func() error, func(), error) {
	r := &rawReader{addr: addr, persistent: persistent, buf: make([]byte, 65536)}
	var flags uint32
	if persistent {
		flags = rawPersistence
	}
	// version, payload, type READ, flags, size, offset; then path and NUL.
	for _, w := range []uint32{0, uint32(len(path) + 1), 2, flags, 65536, 0} {
		r.req = binary.BigEndian.AppendUint32(r.req, w)
	}
	r.req = append(append(r.req, path...), 0)
	done := func() {
		if r.nc != nil {
			r.nc.Close()
		}
	}
	return r.read, done, nil
}

func (r *rawReader) read() error {
	if r.nc == nil {
		nc, err := net.Dial("tcp", r.addr)
		if err != nil {
			return err
		}
		r.nc = nc
	}
	if _, err := r.nc.Write(r.req); err != nil {
		return err
	}
	for {
		if _, err := io.ReadFull(r.nc, r.hdr[:]); err != nil {
			return err
		}
		payload := int32(binary.BigEndian.Uint32(r.hdr[4:]))
		if payload == -1 {
			continue // keepalive
		}
		ret := int32(binary.BigEndian.Uint32(r.hdr[8:]))
		flags := binary.BigEndian.Uint32(r.hdr[12:])
		if payload < 0 || int(payload) > len(r.buf) {
			return fmt.Errorf("raw: bad payload length %d", payload)
		}
		if _, err := io.ReadFull(r.nc, r.buf[:payload]); err != nil {
			return err
		}
		if ret < 0 {
			return fmt.Errorf("raw: owserver error %d", -ret)
		}
		if !r.persistent {
			err := r.nc.Close()
			r.nc = nil
			return err
		}
		if flags&rawPersistence == 0 {
			return errors.New("raw: owserver refused persistence")
		}
		return nil
	}
}
