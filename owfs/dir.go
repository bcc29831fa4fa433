package owfs

import (
	"context"
	"sort"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// dirNode is an owserver directory: the root, a device, a subdirectory
// such as errata, or one of owserver's own (settings, uncached, bus.0…).
type dirNode struct {
	fs.Inode
	fs   *FS
	path string
}

var (
	_ = (fs.NodeLookuper)((*dirNode)(nil))
	_ = (fs.NodeReaddirer)((*dirNode)(nil))
	_ = (fs.NodeGetattrer)((*dirNode)(nil))
	_ = (fs.NodeSetattrer)((*dirNode)(nil))
	_ = (fs.NodeMkdirer)((*dirNode)(nil))
	_ = (fs.NodeMknoder)((*dirNode)(nil))
	_ = (fs.NodeCreater)((*dirNode)(nil))
	_ = (fs.NodeLinker)((*dirNode)(nil))
	_ = (fs.NodeSymlinker)((*dirNode)(nil))
	_ = (fs.NodeUnlinker)((*dirNode)(nil))
	_ = (fs.NodeRmdirer)((*dirNode)(nil))
	_ = (fs.NodeRenamer)((*dirNode)(nil))
)

const dirMode = syscall.S_IFDIR | 0o755

// maxNameLen is the longest name, as statfs says.
const maxNameLen = 255

// Getattr - FUSE call. Directories are 0755, owned by the mount's owner.
func (d *dirNode) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fs.fillAttr(&out.Attr, dirMode, d.path)
	return 0
}

// Setattr - FUSE call. touch succeeds without reaching owserver; chmod and
// chown are refused.
func (d *dirNode) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := d.fs.refuseSetattr(in); errno != 0 {
		return errno
	}
	return d.Getattr(ctx, f, out)
}

func (d *dirNode) entries(ctx context.Context) ([]cache.Entry, syscall.Errno) {
	es, err := d.fs.cache.Dir(ctx, d.path)
	return es, d.fs.errno(ctx, "readdir", d.path, err)
}

// Readdir - FUSE call. The listing (cached for the directory lifetime) in
// name order, with each entry's type.
func (d *dirNode) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	es, errno := d.entries(ctx)
	if errno != 0 {
		return nil, errno
	}
	// The kernel does not make up "." and ".." for FUSE: ls -a, and
	// programs that expect them first, get them only from here.
	out := make([]fuse.DirEntry, 0, len(es)+2)
	out = append(out,
		fuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR, Ino: d.StableAttr().Ino},
		fuse.DirEntry{Name: "..", Mode: syscall.S_IFDIR, Ino: d.parentIno()})
	for _, e := range es {
		mode := uint32(syscall.S_IFREG)
		if e.IsDir {
			mode = syscall.S_IFDIR
		}
		out = append(out, fuse.DirEntry{Name: e.Name, Mode: mode, Ino: ino(childPath(d.path, e.Name))})
	}
	return fs.NewListDirStream(out), 0
}

// parentIno is the inode number of the directory's parent, for "..": the
// root's own for the root (the kernel shows the mountpoint's parent
// instead anyway).
func (d *dirNode) parentIno() uint64 {
	if _, parent := d.Parent(); parent != nil {
		return parent.StableAttr().Ino
	}
	return d.StableAttr().Ino
}

// deviceAtRoot reports whether the root's listing shows name as a
// device's directory (an alias, since ids are asked about anyway).
func (d *dirNode) deviceAtRoot(ctx context.Context, name string) (bool, syscall.Errno) {
	if owclient.IsSpecialDir(name) || strings.HasPrefix(name, "bus.") {
		return false, 0
	}
	es, err := d.fs.cache.Dir(ctx, "/")
	if errno := d.fs.errno(ctx, "lookup", "/", err); errno != 0 {
		return false, errno
	}
	i := sort.Search(len(es), func(i int) bool { return es[i].Name >= name })
	return i < len(es) && es[i].Name == name && es[i].IsDir, 0
}

// Lookup - FUSE call. A name exists if the directory's listing has it; the
// answer costs no owserver message while the listing is cached.
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if len(name) > maxNameLen {
		return nil, d.fs.fail(syscall.ENAMETOOLONG)
	}
	es, errno := d.entries(ctx)
	if errno != 0 {
		return nil, errno
	}
	i := sort.Search(len(es), func(i int) bool { return es[i].Name >= name })
	found := i < len(es) && es[i].Name == name
	isDir := found && es[i].IsDir
	if !found && d.path == "/" && owclient.IsSpecialDir(name) {
		// They exist even when the listing hides them (hide_special).
		found, isDir = true, true
	}
	ask := !found && owclient.ParsePath(d.path).ListsDevices() && owclient.IsDeviceName(name)
	if !found && !ask && d.path != "/" && owclient.ParsePath(d.path).ListsDevices() {
		// alarm/ lists only the devices in alarm, but owserver serves
		// every device there, by alias too: a name the root lists as a
		// device's is worth the question.
		var errno syscall.Errno
		if ask, errno = d.deviceAtRoot(ctx, name); errno != 0 {
			return nil, errno
		}
	}
	if ask {
		// owserver serves a device under its id when it lists it by its
		// alias, and under every spelling of the id (lower case, no dot,
		// with CRC) while it lists one: ask it. A server that cannot
		// answer is EIO, never ENOENT.
		present, err := d.fs.cache.Present(ctx, childPath(d.path, name))
		if errno := d.fs.errno(ctx, "lookup", childPath(d.path, name), err); errno != 0 {
			return nil, errno
		}
		found, isDir = present, present
	}
	if !found {
		return nil, d.fs.fail(syscall.ENOENT)
	}
	path := childPath(d.path, name)
	if isDir {
		child := &dirNode{fs: d.fs, path: path}
		d.fs.fillAttr(&out.Attr, dirMode, path)
		return d.NewInode(ctx, child, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino(path)}), 0
	}
	prop, err := d.fs.cache.Property(ctx, path)
	if errno := d.fs.errno(ctx, "lookup", path, err); errno != 0 {
		return nil, errno
	}
	// The node the kernel knows already, if any, is the one whose size
	// the kernel was given (and which go-fuse would keep anyway).
	var child *propNode
	in := d.GetChild(name)
	if in != nil {
		child, _ = in.Operations().(*propNode)
	}
	if child == nil {
		child = newPropNode(d, name, prop)
		in = d.NewInode(ctx, child, fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino(path)})
	}
	out.SetAttrTimeout(child.fillAttr(&out.Attr, nil))
	return in, 0
}

// refusal is the errno for changing the namespace: owserver's names are
// its devices and properties.
func (d *dirNode) refusal() syscall.Errno {
	if d.fs.opts.ReadOnly {
		return d.fs.fail(syscall.EROFS)
	}
	return d.fs.fail(syscall.EPERM)
}

// Mkdir - FUSE call, refused.
func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, d.refusal()
}

// Mknod - FUSE call, refused.
func (d *dirNode) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, d.refusal()
}

// Create - FUSE call, refused: only names owserver lists exist. (An
// O_CREAT open of an existing property does not come here.)
func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, d.refusal()
}

// Link - FUSE call, refused.
func (d *dirNode) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, d.refusal()
}

// Symlink - FUSE call, refused.
func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, d.refusal()
}

// Unlink - FUSE call, refused (go-fuse's default would succeed and drop
// the node).
func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno { return d.refusal() }

// Rmdir - FUSE call, refused.
func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno { return d.refusal() }

// Rename - FUSE call, refused. To rename a device, write its alias.
func (d *dirNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return d.refusal()
}

// refuseSetattr allows what touch does (times) and refuses what would
// claim a change owserver cannot make (mode, owner).
func (f *FS) refuseSetattr(in *fuse.SetAttrIn) syscall.Errno {
	if in.Valid&(fuse.FATTR_MODE|fuse.FATTR_UID|fuse.FATTR_GID) != 0 {
		if f.opts.ReadOnly {
			return f.fail(syscall.EROFS)
		}
		return f.fail(syscall.EPERM)
	}
	return 0
}
