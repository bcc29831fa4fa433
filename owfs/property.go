package owfs

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// propNode is a file: a device property, a setting, a statistic or a
// structure line.
//
// A walk of a big bus makes one for every file (45,000 for 1,000
// devices), and the kernel keeps them, so it is kept small: what files
// of the same name and property share is one propInfo, the path is the
// directory's and the name, and the bookkeeping of writers, which few
// files ever have, is allocated at the first. Its size is pinned by
// TestPropNodeSize: 160 bytes, a Go size class.
type propNode struct {
	fs.Inode
	dir  *dirNode  // the directory that lists it: its path and filesystem
	info *propInfo // name and structure line; never changes

	// told is the size the kernel was last given for this file (-1: not
	// known); Open corrects it when a value's length differs, so that
	// sendfile, which the kernel bounds by it, copies the whole value.
	// Sizes beyond an int32 are stored as math.MaxInt32 (see clamp): no
	// value is that long.
	told atomic.Int32
	// last is the length of the last value served (-1: none yet), the
	// best guess of the next one's.
	last atomic.Int32

	w atomic.Pointer[writerSet] // nil until the file is first opened for writing
}

// propInfo is what files of one name and one property share: the same
// property of every device of a family, found through any directory.
type propInfo struct {
	name string
	prop cache.Property // fetched at lookup; structure lines never change
}

// writerSet is the handles open for writing on a file.
type writerSet struct {
	mu     sync.Mutex // guards following
	open   map[*handle]bool
	opened uint64 // handles opened so far, for their seq
}

// maxPropInfos bounds the propInfos a mount shares; beyond it (a server
// with endless names) each file gets its own.
const maxPropInfos = 4096

// propInfoFor returns the shared propInfo for a file name and its
// property.
func (f *FS) propInfoFor(name string, prop cache.Property) *propInfo {
	key := propInfo{name: name, prop: prop}
	f.infoMu.Lock()
	defer f.infoMu.Unlock()
	if in, ok := f.infos[key]; ok {
		return in
	}
	in := &propInfo{name: strings.Clone(name), prop: prop}
	if len(f.infos) < maxPropInfos {
		if f.infos == nil {
			f.infos = map[propInfo]*propInfo{}
		}
		f.infos[*in] = in
	}
	return in
}

func newPropNode(d *dirNode, name string, prop cache.Property) *propNode {
	p := &propNode{dir: d, info: d.fs.propInfoFor(name, prop)}
	p.told.Store(-1)
	p.last.Store(-1)
	return p
}

// fsys is the filesystem the file belongs to.
func (p *propNode) fsys() *FS { return p.dir.fs }

// path is the file's owserver path.
func (p *propNode) path() string { return childPath(p.dir.path, p.info.name) }

// clamp is n as told and last store it.
func clamp(n int64) int32 { return int32(min(n, math.MaxInt32)) }

// writers returns the file's writers, made at the first.
func (p *propNode) writers() *writerSet {
	if w := p.w.Load(); w != nil {
		return w
	}
	p.w.CompareAndSwap(nil, &writerSet{open: map[*handle]bool{}})
	return p.w.Load()
}

var (
	_ = (fs.NodeGetattrer)((*propNode)(nil))
	_ = (fs.NodeSetattrer)((*propNode)(nil))
	_ = (fs.NodeOpener)((*propNode)(nil))
	_ = (fs.NodeGetxattrer)((*propNode)(nil))
	_ = (fs.NodeListxattrer)((*propNode)(nil))
)

// readable and writable follow the structure line; paths without one
// follow their place (settings are writable, statistics are not).
func (p *propNode) readable() bool {
	return !p.info.prop.Known || p.info.prop.Structure.Readable()
}

func (p *propNode) writable() bool {
	if p.info.prop.Known {
		return p.info.prop.Structure.Writable()
	}
	// Settings, and device properties without a structure line.
	return p.info.prop.Class == owclient.Stable || (p.info.prop.Class == owclient.Volatile && p.info.prop.InDevice)
}

func (p *propNode) mode() uint32 {
	var perm uint32
	if p.readable() {
		perm |= 0o444
	}
	if p.writable() && !p.fsys().opts.ReadOnly {
		perm |= 0o200
	}
	return syscall.S_IFREG | perm
}

// Getattr - FUSE call. Reads are direct I/O and go to the end whatever
// the size says, but sendfile, copy_file_range, mmap and programs that
// trust st_size (tar, rsync) stop at it; see size.
func (p *propNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.SetTimeout(p.fillAttr(&out.Attr, f))
	return 0
}

// fillAttr fills a file's attributes, remembers the size given and
// returns how long the kernel may keep them.
func (p *propNode) fillAttr(out *fuse.Attr, f fs.FileHandle) time.Duration {
	p.fsys().fillAttrIno(out, p.mode(), p.StableAttr().Ino)
	size, keep := p.size(f)
	out.Size = size
	p.told.Store(clamp(int64(min(size, math.MaxInt64))))
	return keep
}

// correctSize tells the kernel the length of a value a handle is about to
// serve, if it was given another. The kernel bounds page-cache reads
// (sendfile, splice, mmap) by the size it knows, even for direct I/O files
// (since Linux 6.5), so a value longer than that would be cut short
// silently: storing the value in the kernel's cache raises the size to its
// length. A shorter one needs only the size forgotten: the next fstat asks
// again, and a page-cache read that comes back short lowers it. It runs
// in Open, before the opener can read: the kernel holds no lock of this
// file then.
func (p *propNode) correctSize(v []byte) {
	n := clamp(int64(len(v)))
	p.last.Store(n)
	if s := p.fsys().opts.sizing; s != sizeGuess && s != sizeLast {
		return
	}
	told := p.told.Load()
	switch {
	case n > told:
		if p.WriteCache(0, v) == 0 {
			p.told.Store(n)
		}
	case n < told:
		if p.NotifyContent(-1, 0) == 0 {
			p.told.Store(-1)
		}
	}
}

// Setattr - FUSE call. Truncating to 0 (O_TRUNC, ftruncate, vim) empties
// the value being written, or without a handle writes the empty value; a
// truncate to another size (Python's f.truncate() after a write, rsync
// --inplace) changes nothing, as a value has no length to cut; touch
// succeeds without reaching owserver; chmod and chown are refused.
func (p *propNode) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := p.fsys().refuseSetattr(in); errno != 0 {
		return errno
	}
	if size, ok := in.GetSize(); ok {
		if errno := p.checkWrite(); errno != 0 {
			return errno
		}
		if size == 0 && !p.isBinary() {
			if h, ok := f.(*handle); ok {
				h.truncate()
			} else if !p.truncateWriter(callerPid(ctx)) {
				// truncate(2) by name, with nothing open: the empty value.
				if !p.allowsEmpty() {
					return p.fsys().fail(syscall.EINVAL)
				}
				if errno := p.commit(ctx, nil); errno != 0 {
					return p.fsys().fail(errno)
				}
			}
		}
	}
	return p.Getattr(ctx, f, out)
}

func (p *propNode) checkWrite() syscall.Errno {
	switch {
	case p.fsys().opts.ReadOnly:
		return p.fsys().fail(syscall.EROFS)
	case !p.writable():
		return p.fsys().fail(syscall.EACCES)
	}
	return 0
}

// ReadOpenFlags are what Open answers for a property opened read-only:
// direct I/O, since the value changes between opens and its length is
// not known before one; no FLUSH, since there is nothing to commit at
// close. integration/fsbench's ceiling opens its file with them too.
const ReadOpenFlags = fuse.FOPEN_DIRECT_IO | fuse.FOPEN_NOFLUSH

// Open - FUSE call. Access follows the structure line for root too: a
// read-only property cannot be opened for writing, a write-only one not
// for reading. A read-only open reads the value now, once, for every read
// of the handle.
func (p *propNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	acc := flags & syscall.O_ACCMODE
	if acc != syscall.O_WRONLY && !p.readable() {
		return nil, 0, p.fsys().fail(syscall.EACCES)
	}
	if acc != syscall.O_RDONLY {
		if errno := p.checkWrite(); errno != 0 {
			return nil, 0, errno
		}
	}
	h := newHandle(p, callerPid(ctx))
	if flags&syscall.O_TRUNC != 0 {
		h.truncate()
	}
	if acc != syscall.O_RDONLY {
		w := p.writers()
		w.mu.Lock()
		w.opened++
		h.seq = w.opened
		w.open[h] = true
		w.mu.Unlock()
	}
	if acc == syscall.O_RDONLY {
		if errno := h.load(ctx); errno != 0 {
			return nil, 0, errno
		}
		p.correctSize(h.value)
		return h, ReadOpenFlags, 0
	}
	return h, fuse.FOPEN_DIRECT_IO, 0
}

// truncateWriter empties the buffer of the newest handle the caller
// opened for writing and has not written to, and reports whether there
// was one. The kernel truncates for open(O_TRUNC) with a SETATTR that
// names no handle (go-fuse cannot negotiate atomic O_TRUNC), from the
// opening thread, so this is how `echo 25 > temphigh` reaches its handle
// without touching other writers'.
func (p *propNode) truncateWriter(pid uint32) bool {
	w := p.w.Load()
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var newest *handle
	for h := range w.open {
		if h.pid == pid && !h.hasWritten() && (newest == nil || h.seq > newest.seq) {
			newest = h
		}
	}
	if newest != nil {
		newest.truncate()
	}
	return newest != nil
}

// allowsEmpty reports whether the empty value can be written: text, and
// paths without a structure line. Numbers, dates and switches cannot be
// empty, and owserver would refuse it.
func (p *propNode) allowsEmpty() bool {
	if !p.info.prop.Known {
		return true
	}
	switch p.info.prop.Structure.Type {
	case 'a', 'l':
		return true
	}
	return false
}

// mayContinue reports whether a text value that owserver refused could
// still become valid with more bytes: a sign or a point before a number's
// digits, the start of a yes/no word, any start of a date. A writer that
// sends a value in pieces (dd bs=1) is then not stopped at its first byte.
func (p *propNode) mayContinue(v []byte) bool {
	if bytes.IndexByte(v, 0) >= 0 {
		return false
	}
	t := byte(0) // no structure line: settings are numbers
	if p.info.prop.Known {
		t = p.info.prop.Structure.Type
	}
	switch t {
	case 'd':
		return true
	case 'y':
		w := strings.ToLower(strings.TrimSpace(string(v)))
		for _, word := range []string{"on", "off", "yes", "no", "true", "false"} {
			if len(w) < len(word) && strings.HasPrefix(word, w) {
				return true
			}
		}
		return false
	case 'a', 'l', 'b':
		return false
	}
	switch strings.TrimLeft(string(v), " \t") {
	case "", "+", "-", ".", "+.", "-.":
		return true
	}
	return false
}

func (p *propNode) forget(h *handle) {
	w := p.w.Load()
	if w == nil {
		return
	}
	w.mu.Lock()
	delete(w.open, h)
	w.mu.Unlock()
}

// read fetches the value as readers see it.
func (p *propNode) read(ctx context.Context) ([]byte, syscall.Errno) {
	path := p.path()
	v, err := p.fsys().cache.Read(ctx, path)
	if errno := p.fsys().errno(ctx, "read", path, err); errno != 0 {
		return nil, errno
	}
	return p.present(v), 0
}

// present is owserver's value as a file's content: text ends in a newline
// if the mount says so; binary is left alone.
func (p *propNode) present(v []byte) []byte {
	if p.fsys().opts.Newline && !p.isBinary() && len(v) > 0 && v[len(v)-1] != '\n' {
		v = append(v[:len(v):len(v)], '\n')
	}
	return v
}

// isBinary reports whether the structure line says the value is bytes
// (memory pages, EEPROMs) rather than text.
func (p *propNode) isBinary() bool {
	return p.info.prop.Known && p.info.prop.Structure.Type == 'b'
}

// commit writes a text value to owserver. It runs to the end even if the
// caller is interrupted: a half-sent write is worse than a late one. The
// structure line's size is not checked: it is the width owserver formats a
// value to, not a bound on what it accepts (`yes` for a switch, a float
// with many digits). Like commitAt and commitPart, it leaves counting
// the errno to the caller, which may not tell the kernel (see toErrno).
func (p *propNode) commit(ctx context.Context, value []byte) syscall.Errno {
	if bytes.IndexByte(value, 0) >= 0 {
		// owserver would take the text up to the NUL and drop the rest.
		return syscall.EINVAL
	}
	return p.commitAt(ctx, value, 0)
}

// commitAt writes data at offset, exactly as given, all of it: a value
// owserver cut short (an alias longer than it keeps) is EFBIG.
func (p *propNode) commitAt(ctx context.Context, data []byte, offset int64) syscall.Errno {
	n, errno := p.commitPart(ctx, data, offset)
	if errno == 0 && n < len(data) {
		p.fsys().log.Debug("owserver cut a value short", "path", p.path(), "took", n, "sent", len(data))
		return syscall.EFBIG
	}
	return errno
}

// commitPart writes data at offset and returns how many bytes owserver
// took: fewer than all of them when a memory page ends first, with no
// error unless it took none.
func (p *propNode) commitPart(ctx context.Context, data []byte, offset int64) (int, syscall.Errno) {
	// Not canceled by an interrupt: the write may have reached owserver.
	ctx = context.WithoutCancel(ctx)
	path := p.path()
	err := p.fsys().cache.WriteAt(ctx, path, data, int(offset))
	p.last.Store(-1) // whatever owserver made of it
	var pe *owclient.PartialWriteError
	if errors.As(err, &pe) && pe.Written > 0 {
		go p.invalidate(data)
		return pe.Written, 0
	}
	if err == nil {
		go p.invalidate(data)
		return len(data), 0
	}
	return 0, p.fsys().toErrno(ctx, "write", path, err)
}

// invalidate drops the kernel's copies of what a write changed. It runs
// on its own goroutine: notifying from inside a FUSE call on the same
// node can deadlock.
func (p *propNode) invalidate(value []byte) {
	p.NotifyContent(0, 0)
	if pp := owclient.ParsePath(p.path()); pp.Device != "" && pp.Property == "alias" {
		// The device directory's name changes in its parent.
		if parent, name := p.parentOfDevice(); parent != nil {
			parent.NotifyEntry(name)
			parent.NotifyEntry(strings.TrimSpace(string(value)))
			parent.NotifyContent(0, 0)
		}
	}
}

// parentOfDevice returns the inode of the directory that lists the
// device whose alias this is, and the device's name there.
func (p *propNode) parentOfDevice() (*fs.Inode, string) {
	_, dev := p.Parent()
	if dev == nil {
		return nil, ""
	}
	name, parent := dev.Parent()
	return parent, name
}

// xattrs are the structure line and its parts, for getfattr -d.
func (p *propNode) xattrs() map[string]string {
	if !p.info.prop.Known {
		return nil
	}
	s := p.info.prop.Structure
	return map[string]string{
		"user.owfs.structure": s.String(),
		"user.owfs.type":      typeName(s.Type),
		"user.owfs.access":    string(s.Access),
		"user.owfs.size":      strconv.Itoa(s.Size),
		"user.owfs.change":    s.Change.String(),
	}
}

var xattrOrder = []string{"user.owfs.structure", "user.owfs.type", "user.owfs.access", "user.owfs.size", "user.owfs.change"}

// Listxattr - FUSE call. The structure line's attributes, for device
// properties.
func (p *propNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	var list []byte
	if p.info.prop.Known {
		for _, n := range xattrOrder {
			list = append(append(list, n...), 0)
		}
	}
	return p.fsys().fill(dest, list)
}

// Getxattr - FUSE call.
func (p *propNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	v, ok := p.xattrs()[attr]
	if !ok && !strings.HasPrefix(attr, "user.") {
		// Probes, whose usual answer is none: the kernel's for
		// security.capability before every write, ls's for ACLs and
		// labels. Counted, they made every write an error in metrics.
		return 0, syscall.ENODATA
	}
	if !ok {
		return 0, p.fsys().fail(syscall.ENODATA)
	}
	return p.fsys().fill(dest, []byte(v))
}

// fill answers an xattr call: the size alone for an empty dest, ERANGE
// when dest is too small.
func (f *FS) fill(dest, b []byte) (uint32, syscall.Errno) {
	if len(dest) == 0 {
		return uint32(len(b)), 0
	}
	if len(dest) < len(b) {
		return 0, f.fail(syscall.ERANGE)
	}
	return uint32(copy(dest, b)), 0
}

var typeNames = map[byte]string{
	'D': "directory", 'i': "integer", 'u': "unsigned", 'f': "float", 'l': "alias", 'a': "ascii",
	'b': "binary", 'y': "yesno", 'd': "date", 't': "temperature", 'g': "tempgap", 'p': "pressure",
}

func typeName(t byte) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "unknown"
}
