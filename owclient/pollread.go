package owclient

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pollReader reads a socket by waiting in poll(2) on the calling thread
// instead of parking the goroutine on Go's network poller.
//
// Why: a request that is the only one in flight is pure latency, and on
// the netpoller its reply costs the runtime extra thread wake-ups (the
// poller's thread wakes, then hands the goroutine to a thread with a P);
// in poll(2) the kernel wakes the waiting thread itself. `make bench`
// measures the gain (owclient's BenchmarkRead, and integration/fsbench's
// uncached reads through a mount); its numbers are not copied here, since
// another machine or Go release gives others. While other requests are
// in flight the netpoller is used as usual, since a thread blocked in a
// syscall holds its P until sysmon takes it back.
//
// The thread holds its P while it waits, so the wait is short: until
// until (pollBudget after the request was sent), after which the read
// goes to the netpoller like any other. The budget is meant to cover an
// answer from owserver's cache, not a real bus read: one that takes a
// second must not keep a daemon on one processor from serving another
// caller that long.
//
// The socket stays non-blocking: a read that would block waits in poll
// (whole milliseconds, rounded up), and EINTR (Go's preemption signals)
// just waits again.
type pollReader struct {
	nc       net.Conn
	rc       syscall.RawConn
	deadline time.Time // the frame's
	until    time.Time // end of the poll budget

	// One Read's arguments and results, for the Control callback: a conn
	// keeps its pollReader and the callback is a method value made once,
	// so that reading a reply allocates nothing.
	p       []byte
	n       int
	err     error
	netpoll bool // the budget is spent: read on the netpoller
	pfd     [1]unix.PollFd
	wait    func(fd uintptr)
}

// pollBudget is how long a lone request waits for its reply in poll(2):
// long enough for a reply owserver has cached, far shorter than a bus read.
const pollBudget = 2 * time.Millisecond

func (r *pollReader) Read(p []byte) (int, error) {
	if r.wait == nil {
		r.wait = r.readOrWait
	}
	r.p, r.n, r.err, r.netpoll = p, 0, nil, false
	cerr := r.rc.Control(r.wait)
	r.p = nil
	switch {
	case cerr != nil:
		return 0, cerr
	case r.netpoll:
		r.nc.SetReadDeadline(r.deadline)
		return r.nc.Read(p)
	}
	return r.n, r.err
}

// readOrWait reads fd into r.p, waiting in poll while there is nothing to
// read, up to the deadline or the end of the budget.
func (r *pollReader) readOrWait(fd uintptr) {
	r.pfd[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	for {
		n, err := syscall.Read(int(fd), r.p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != syscall.EAGAIN:
			r.n, r.err = max(n, 0), err
			if n == 0 && err == nil && len(r.p) > 0 {
				r.err = io.EOF
			}
			return
		}
		now := time.Now()
		if !now.Before(r.deadline) {
			r.err = os.ErrDeadlineExceeded
			return
		}
		if !now.Before(r.until) {
			r.netpoll = true
			return
		}
		end := r.deadline
		if r.until.Before(end) {
			end = r.until
		}
		ms := int((end.Sub(now) + time.Millisecond - 1) / time.Millisecond)
		if _, perr := unix.Poll(r.pfd[:], ms); perr != nil && perr != unix.EINTR {
			r.err = perr
			return
		}
	}
}
