package owfs

import (
	"bytes"
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/owclient"
)

// handle is one open of a property file. It is safe for concurrent use:
// the kernel may send reads and writes of one handle in parallel.
//
// Reading: a handle serves one value per pass. The value is fetched at
// open (or at the first read of a read-write handle) and every read of the
// pass is cut from it, so `dd bs=1` sees one reading; a read at offset 0
// after the handle was read starts a new pass with a fresh value (through
// the cache), so a poller rereading one descriptor sees changes.
//
// Writing text: every write(2) reaches owserver before it returns, so the
// writer sees a refusal where it looks (bash ignores errors at close). A
// value ends at a newline; bytes written since the last newline are sent as
// the value so far, and each further write that continues them sends the
// longer value again (`dd bs=1` sends "2", then "25": the last write sends
// the whole value). A partial value that owserver refuses but more bytes
// could still make valid ("-" before "-5") waits for those bytes; close(2)
// reports it if they never come. A write at any other offset than where the
// last one ended starts a new value: nothing is padded.
//
// Writing binary (memory pages, EEPROMs): each write(2) goes to owserver at
// its offset, byte for byte.
type handle struct {
	node *propNode
	pid  uint32 // the thread that opened it, as FUSE names callers
	seq  uint64 // opening order among the node's handles

	mu     sync.Mutex // guards following
	value  []byte     // what reads of this pass return
	loaded bool
	served bool // a read of this pass returned: a read at 0 starts a new one

	next    int64  // the file offset at which a write continues pending
	pending []byte // text written since the last newline
	sentLen int    // len(pending) when it last reached owserver as it is; -1 if not
	held    bool   // owserver refused pending, which more bytes may complete
	// truncated: emptied (O_TRUNC, ftruncate) with nothing written since,
	// so the empty value is due unless a write comes; see Flush.
	truncated bool
	written   bool // a write ever arrived
}

var (
	_ = (fs.FileReader)((*handle)(nil))
	_ = (fs.FileWriter)((*handle)(nil))
	_ = (fs.FileFlusher)((*handle)(nil))
	_ = (fs.FileFsyncer)((*handle)(nil))
	_ = (fs.FileReleaser)((*handle)(nil))
)

func newHandle(p *propNode, pid uint32) *handle {
	return &handle{node: p, pid: pid, sentLen: -1}
}

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
	h.value, h.loaded, h.served = v, true, false
	return 0
}

// size is the length of the value this handle serves, -1 if none yet.
func (h *handle) size() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded {
		return -1
	}
	return int64(len(h.value))
}

// Read - FUSE call. Serves the value of the current pass at any offset; a
// read at 0 after the handle was read fetches the value anew.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if off == 0 && h.served {
		h.loaded = false
	}
	if errno := h.loadLocked(ctx); errno != 0 {
		return nil, errno
	}
	h.served = true
	if off >= int64(len(h.value)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(h.value)))
	return fuse.ReadResultData(h.value[off:end]), 0
}

// Write - FUSE call. See handle for the rules.
func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if off < 0 || off > 1<<31-1 {
		return 0, h.node.fsys().fail(syscall.EINVAL)
	}
	h.node.grewTo(off + int64(len(data)))
	h.written, h.truncated = true, false
	if h.node.isBinary() {
		// A short count past a page's end: the writer learns where the
		// memory ends (cp then fails with "File too large").
		n, errno := h.node.commitPart(ctx, data, off)
		h.loaded = false
		return uint32(n), h.node.fsys().fail(errno)
	}
	if off != h.next {
		h.pending, h.sentLen, h.held = h.pending[:0], -1, false
	}
	if len(h.pending)+len(data) > owclient.MaxServerPayload-len(h.node.path())-1 {
		h.pending, h.sentLen, h.held = h.pending[:0], -1, false
		return 0, h.node.fsys().fail(syscall.EFBIG)
	}
	h.pending = append(h.pending, data...) // data is reused after we return
	h.next = off + int64(len(data))
	if errno := h.sendLocked(ctx); errno != 0 {
		return 0, h.node.fsys().fail(errno)
	}
	return uint32(len(data)), 0
}

// sendLocked sends each complete line of pending as a value, then the
// rest, if any, as the value so far. It returns the errno for the write,
// not counted yet: a refusal of a partial value that more bytes may
// complete is not one.
func (h *handle) sendLocked(ctx context.Context) syscall.Errno {
	for {
		i := bytes.IndexByte(h.pending, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSuffix(h.pending[:i], []byte{'\r'})
		if h.sentLen != len(line) { // else it went out already, as a partial value
			if errno := h.commitLocked(ctx, line); errno != 0 {
				h.pending, h.sentLen, h.held = h.pending[:0], -1, false
				return errno
			}
		}
		h.pending = append(h.pending[:0], h.pending[i+1:]...)
		h.sentLen, h.held = -1, false
	}
	if len(h.pending) == 0 || h.sentLen == len(h.pending) {
		return 0
	}
	errno := h.commitLocked(ctx, h.pending)
	switch {
	case errno == 0:
		h.sentLen, h.held = len(h.pending), false
	case errno == syscall.EINVAL && h.node.mayContinue(h.pending):
		h.held = true // the rest of the value may be on its way
	default:
		h.pending, h.sentLen, h.held = h.pending[:0], -1, false
		return errno
	}
	return 0
}

// commitLocked sends one value; a later read of a read-write handle sees
// the new value. Its errno is not counted yet (see toErrno).
func (h *handle) commitLocked(ctx context.Context, v []byte) syscall.Errno {
	h.loaded = false
	return h.node.commit(ctx, v)
}

func (h *handle) hasWritten() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.written
}

// truncate empties the value being written (O_TRUNC, ftruncate to 0). An
// EEPROM cannot be emptied: for binary properties it does nothing.
func (h *handle) truncate() {
	if h.node.isBinary() {
		return
	}
	h.mu.Lock()
	h.pending, h.sentLen, h.held, h.truncated = h.pending[:0], -1, false, true
	h.next = 0
	h.mu.Unlock()
}

// finishLocked sends what no write could: a held partial value, or the
// empty value after a truncate. It returns owserver's answer, not counted
// yet.
func (h *handle) finishLocked(ctx context.Context) syscall.Errno {
	switch {
	case h.held:
		v := h.pending
		h.pending, h.sentLen, h.held = nil, -1, false
		return h.commitLocked(ctx, v)
	case h.truncated:
		h.truncated = false
		if !h.node.allowsEmpty() {
			// owserver refuses an empty number or date: say so without
			// sending it.
			return syscall.EINVAL
		}
		return h.commitLocked(ctx, nil)
	}
	return 0
}

// Flush - FUSE call, at every close(2), whose result close returns. It
// sends a held partial value, or the empty value of a truncate without a
// write, so that close(2) reports owserver's answer. A shell's
// `echo 25 > f` opens (truncating), moves the descriptor to stdout and
// closes the first one before echo writes: a close while the opening
// process still holds another descriptor of the file waits for that one,
// and closes by other processes (children closing what they inherited)
// do not count.
func (h *handle) Flush(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.truncated && !h.held {
		pid := callerPid(ctx)
		if !sameProcess(pid, h.pid) {
			return 0 // a child closing what it inherited
		}
		open, known := holdsOpen(pid, h.node.StableAttr().Ino)
		if open || !known {
			return 0 // Release sends it if nothing else does
		}
	}
	return h.node.fsys().fail(h.finishLocked(ctx))
}

// Fsync - FUSE call. Sends what is left, an empty value included; 0 once
// owserver has it (vim refuses to save on a failing fsync).
func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.node.fsys().fail(h.finishLocked(ctx))
}

// Release - FUSE call, after the last close. The kernel drops its result,
// so Flush has normally sent everything already; a failure is still
// counted, as the only trace of a value that never reached owserver.
func (h *handle) Release(ctx context.Context) syscall.Errno {
	defer h.node.forget(h)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.truncated && !h.node.allowsEmpty() {
		return 0 // not sent, and nobody to tell
	}
	return h.node.fsys().fail(h.finishLocked(ctx))
}

// callerPid is the thread a FUSE call comes from, 0 if unknown.
func callerPid(ctx context.Context) uint32 {
	if c, ok := fuse.FromContext(ctx); ok {
		return c.Pid
	}
	return 0
}
