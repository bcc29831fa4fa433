package owfs

import (
	"context"
	"hash/fnv"
	"log/slog"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
)

// Options configure the filesystem.
type Options struct {
	// UID and GID own every file and directory.
	UID, GID uint32
	// ReadOnly refuses every write with EROFS.
	ReadOnly bool
	// Newline appends "\n" to text values, so that cat leaves the prompt on
	// a line of its own. Binary properties are never changed.
	Newline bool
	// Logger receives errors returned to the kernel; nil is silent.
	Logger *slog.Logger

	sizing sizeScheme // for tests that measure the alternatives
}

// Backend is what the filesystem asks of the cache in front of owserver;
// *cache.Cache is one. The nodes call nothing else, so a test can mount
// the filesystem over a fake that records every call. Errors are
// owclient's (see errno).
type Backend interface {
	// Dir lists a directory, sorted by name.
	Dir(ctx context.Context, path string) ([]cache.Entry, error)
	// Present reports whether owserver serves a device its directory does
	// not list (an id hidden by its alias, another spelling of an id).
	Present(ctx context.Context, path string) (bool, error)
	// Property says what a file is: its structure line and change class.
	Property(ctx context.Context, path string) (cache.Property, error)
	Read(ctx context.Context, path string) ([]byte, error)
	// WriteAt writes data at a byte offset: 0 for text values, anywhere
	// in a memory page or EEPROM.
	WriteAt(ctx context.Context, path string, data []byte, offset int) error
	// Cached returns a value held fresh and for how much longer, without
	// asking owserver: a file's size guess must not cost a bus read.
	Cached(path string) (v []byte, fresh time.Duration, ok bool)
	// Lifetimes gives the directory lifetime, which the kernel's entry
	// and attribute timeouts follow.
	Lifetimes() cache.Lifetimes
	// Addr names owserver in the log.
	Addr() string
}

var _ Backend = (*cache.Cache)(nil)

// FS is the state shared by every node of a mount.
type FS struct {
	cache   Backend
	opts    Options
	mounted time.Time
	log     *slog.Logger
	down    atomic.Bool // the last owserver request failed on the way

	mu     sync.Mutex // guards following
	errnos map[syscall.Errno]uint64
}

// fail counts an error returned to the kernel, for metrics, and returns
// it. Every errno a FUSE method returns goes through it once; one that
// the kernel is not told (see toErrno) does not.
func (f *FS) fail(e syscall.Errno) syscall.Errno {
	if e != 0 {
		f.mu.Lock()
		if f.errnos == nil {
			f.errnos = map[syscall.Errno]uint64{}
		}
		f.errnos[e]++
		f.mu.Unlock()
	}
	return e
}

// ErrnoCounts returns how often each error was returned to the kernel.
func (r *Root) ErrnoCounts() map[syscall.Errno]uint64 {
	f := r.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.errnos)
}

// New returns the filesystem's root node, serving b (a *cache.Cache in a
// mount).
func New(b Backend, opts Options) *Root {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &FS{cache: b, opts: opts, mounted: time.Now(), log: log}
	return &Root{dirNode: dirNode{fs: f, path: "/"}}
}

// Root is the filesystem's root directory.
type Root struct {
	dirNode
}

var _ = (fs.NodeStatfser)((*Root)(nil))

// Statfs answers statfs(2) and df: owserver has no blocks to count.
func (r *Root) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	out.Bsize = 4096
	out.Frsize = 4096
	out.NameLen = maxNameLen
	return 0
}

// KernelTimeouts returns the entry, attribute and negative-lookup timeouts
// for fs.Options: the cache's directory lifetime.
func (f *Root) KernelTimeouts() (entry, attr, negative time.Duration) {
	d := f.fs.cache.Lifetimes().Directory
	return d, d, d
}

// ino is a path's inode number: stable for as long as the path exists, and
// the same across mounts.
func ino(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	n := h.Sum64()
	if n <= 1 {
		n += 2 // 1 is the root's
	}
	return n
}

func (f *FS) fillAttr(out *fuse.Attr, mode uint32, path string) {
	out.Mode = mode
	out.Ino = ino(path)
	out.Nlink = 1
	out.Uid = f.opts.UID
	out.Gid = f.opts.GID
	out.Size = 0
	out.Blksize = 4096
	t := f.mounted
	out.SetTimes(&t, &t, &t)
}

// childPath joins a directory's owserver path and a name.
func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// ProcessOwner returns the uid and gid of this process, the default owner.
func ProcessOwner() (uid, gid uint32) { return uint32(os.Getuid()), uint32(os.Getgid()) }

// discard drops every record, as slog.DiscardHandler does, which new
// code uses; it stays only while mount.go, daemon.go and procs_test.go
// still spell discard{}.
type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return false }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }
