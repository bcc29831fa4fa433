package owfs

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// handle is one open of a property file. It is safe for concurrent use:
// the kernel may send reads and writes of one handle in parallel.
type handle struct {
	node *propNode
	pid  uint32 // the thread that opened it, as FUSE names callers
	seq  uint64 // opening order among the node's handles

	mu     sync.Mutex // guards following
	value  []byte     // what reads return, fetched once
	loaded bool
	buf    []byte // written and not yet committed
	dirty  bool   // buf holds written data that awaits a commit
	// truncated: emptied (O_TRUNC, ftruncate) with nothing written since,
	// so the empty value is due unless a write comes. flushes counts the
	// opener's closes meanwhile: a shell's `echo x > f` closes once before
	// echo writes (it moves the descriptor to stdout), so only the second
	// close, or the release, commits the empty value. Closes by other
	// processes (a child closing an inherited descriptor) do not count.
	truncated bool
	flushes   int
	written   bool // a write ever arrived
}

var (
	_ = (fs.FileReader)((*handle)(nil))
	_ = (fs.FileWriter)((*handle)(nil))
	_ = (fs.FileFlusher)((*handle)(nil))
	_ = (fs.FileFsyncer)((*handle)(nil))
	_ = (fs.FileReleaser)((*handle)(nil))
)

func (h *handle) load(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.loadLocked(ctx)
}

func (h *handle) loadLocked(ctx context.Context) syscall.Errno {
	if h.loaded {
		return 0
	}
	v, errno := h.node.read(ctx)
	if errno != 0 {
		return errno
	}
	h.value, h.loaded = v, true
	return 0
}

// Read - FUSE call. Serves the value fetched at open (or at the first
// read of a read-write handle), at any offset.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if errno := h.loadLocked(ctx); errno != 0 {
		return nil, errno
	}
	if off >= int64(len(h.value)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(h.value)))
	return fuse.ReadResultData(h.value[off:end]), 0
}

// maxValue bounds a handle's write buffer: owserver takes no more in one
// message.
const maxValue = 100050

// Write - FUSE call. Collects data at its offset; commits at once when
// the buffer ends in a newline, so that the writer sees a refusal.
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	end := off + int64(len(data))
	if off < 0 || end > maxValue {
		return 0, syscall.EFBIG
	}
	if int64(len(h.buf)) < end {
		h.buf = append(h.buf, make([]byte, end-int64(len(h.buf)))...)
	}
	copy(h.buf[off:], data) // data is reused after we return
	h.dirty, h.truncated, h.written = true, false, true
	if h.buf[len(h.buf)-1] == '\n' {
		if errno := h.commitLocked(ctx); errno != 0 {
			return 0, errno
		}
	}
	return uint32(len(data)), 0
}

func (h *handle) hasWritten() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.written
}

func (h *handle) truncate() {
	h.mu.Lock()
	h.buf, h.dirty, h.truncated, h.flushes = h.buf[:0], false, true, 0
	h.mu.Unlock()
}

// commitLocked sends the buffer as one value, without one trailing newline
// (echo's) or CRLF. The buffer is spent either way: a refused value is not
// sent again at close.
func (h *handle) commitLocked(ctx context.Context) syscall.Errno {
	if !h.dirty && !h.truncated {
		return 0
	}
	v := h.buf
	switch {
	case len(v) >= 2 && v[len(v)-2] == '\r' && v[len(v)-1] == '\n':
		v = v[:len(v)-2]
	case len(v) >= 1 && v[len(v)-1] == '\n':
		v = v[:len(v)-1]
	}
	h.buf, h.dirty, h.truncated = nil, false, false
	h.loaded = false // a later read of a read-write handle sees the new value
	return h.node.commit(ctx, v)
}

// Flush - FUSE call, at every close(2). Commits what was written; an
// empty value after a truncate waits for the opener's second close (see
// truncated), and is refused at once for properties that cannot be empty
// (numbers, dates), without sending it.
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.dirty && h.truncated {
		if !h.node.allowsEmpty() {
			return h.node.fs.fail(syscall.EINVAL)
		}
		if callerPid(ctx) == h.pid {
			h.flushes++
		}
		if h.flushes < 2 {
			return 0
		}
	}
	return h.commitLocked(ctx)
}

// Fsync - FUSE call. Commits what is left, an empty value included; 0 once
// owserver has it (vim refuses to save on a failing fsync).
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.commitLocked(ctx)
}

// Release - FUSE call, after the last close. The kernel ignores its
// result; Flush normally committed already. An empty value that cannot be
// one is not sent: Flush refused it already.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	defer h.node.forget(h)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.dirty && h.truncated && !h.node.allowsEmpty() {
		return 0
	}
	return h.commitLocked(ctx)
}

// callerPid is the thread a FUSE call comes from, 0 if unknown.
func callerPid(ctx context.Context) uint32 {
	if c, ok := fuse.FromContext(ctx); ok {
		return c.Pid
	}
	return 0
}
