package owfs

import (
	"context"
	"hash/fnv"
	"log/slog"
	"maps"
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

	infoMu sync.Mutex             // guards following
	infos  map[propInfo]*propInfo // see propInfoFor
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

// FSOptions returns the fs.Options that r's nodes rely on, around mo, for
// fs.Mount or fs.NewNodeFS. The kernel keeps entries, attributes and
// unknown names for the cache's directory lifetime, so that shells probing
// for .git do not reach owserver every time; a mode of 0 (neither ro nor
// wo) stays 0; the root has inode number 1, which ino keeps free (go-fuse
// gives it 0, which stat, ls -i and find's loop detection take for "no
// inode"); every node belongs to the mount's owner. Values are a few bytes,
// so they go back in one writev(2) rather than through go-fuse's splice
// and its pipe, and a write(2) is at most 64 KiB, more than owserver
// takes in one message.
func (r *Root) FSOptions(mo fuse.MountOptions) *fs.Options {
	return KernelOptions(mo, r.fs.cache.Lifetimes().Directory, r.fs.opts.UID, r.fs.opts.GID)
}

// KernelOptions are the fs.Options of FSOptions for any tree of nodes:
// the kernel keeps names and attributes for ttl, and nodes belong to
// uid:gid. They are apart from Root so that a benchmark's constant-file
// filesystem (integration/fsbench's ceiling) mounts exactly as owfuse does.
func KernelOptions(mo fuse.MountOptions, ttl time.Duration, uid, gid uint32) *fs.Options {
	mo.MaxWrite = 64 * 1024
	mo.DisableSplice = true
	return &fs.Options{
		MountOptions:    mo,
		EntryTimeout:    &ttl,
		AttrTimeout:     &ttl,
		NegativeTimeout: &ttl,
		NullPermissions: true,
		RootStableAttr:  &fs.StableAttr{Ino: 1},
		UID:             uid,
		GID:             gid,
	}
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
	f.fillAttrIno(out, mode, ino(path))
}

// fillAttrIno is fillAttr for a node whose inode number is known.
func (f *FS) fillAttrIno(out *fuse.Attr, mode uint32, ino uint64) {
	out.Mode = mode
	out.Ino = ino
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
