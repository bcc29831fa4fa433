package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// ceilingMode is the hidden first argument that makes fsbench serve the
// ceiling filesystem instead of benchmarking: `fsbench ceiling MOUNTPOINT`.
// The FUSE server thus runs in its own process, as owfuse and owfs do, and
// never shares a Go runtime with the workload loops.
const ceilingMode = "ceiling"

// constValue is what every ceiling file holds: 12 bytes, the size of a
// temperature as owfs pads it.
const constValue = "    21.5625\n"

// A ceiling variant is one constant file, at VARIANT/temperature: the
// least a FUSE filesystem can do for open+read+close with given open
// flags and attributes.
type ceilingVariant struct {
	dir   string
	flags uint32
	size  uint64
	desc  string
}

var ceilingVariants = []ceilingVariant{
	{"a", fuse.FOPEN_DIRECT_IO, 0, "(a) DIRECT_IO, size 0"},
	{"b", fuse.FOPEN_DIRECT_IO | fuse.FOPEN_NOFLUSH, 0, "(b) DIRECT_IO+NOFLUSH, size 0"},
	{"c", fuse.FOPEN_KEEP_CACHE | fuse.FOPEN_NOFLUSH, uint64(len(constValue)), "(c) KEEP_CACHE+NOFLUSH, size 12 (page cache)"},
}

// matchingCeiling is the variant opened with owfuse's flags for read-only
// property files (owfs/property.go: FOPEN_DIRECT_IO|FOPEN_NOFLUSH).
const matchingCeiling = "b"

type ceilingRoot struct{ fs.Inode }

func (r *ceilingRoot) OnAdd(ctx context.Context) {
	for _, v := range ceilingVariants {
		dir := r.NewPersistentInode(ctx, &fs.Inode{}, fs.StableAttr{Mode: syscall.S_IFDIR})
		r.AddChild(v.dir, dir, false)
		f := dir.NewPersistentInode(ctx, &constFile{v: v}, fs.StableAttr{Mode: syscall.S_IFREG})
		dir.AddChild("temperature", f, false)
	}
}

type constFile struct {
	fs.Inode
	v ceilingVariant
}

var (
	_ fs.NodeOpener    = (*constFile)(nil)
	_ fs.NodeReader    = (*constFile)(nil)
	_ fs.NodeGetattrer = (*constFile)(nil)
)

func (f *constFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | 0o444
	out.Size = f.v.size
	out.Nlink = 1
	return 0
}

func (f *constFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	return nil, f.v.flags, 0
}

func (f *constFile) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(constValue)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData([]byte(constValue[off:])), 0
}

// ceilingMain serves the ceiling filesystem at args[0] until it is
// unmounted or gets SIGINT/SIGTERM (also sent when fsbench dies).
func ceilingMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: fsbench ceiling MOUNTPOINT")
		return 64
	}
	dir := args[0]
	// The same kernel caching of names and attributes as owfuse's
	// defaults (dir_ttl 10s), so that only open/read/close differs.
	timeout := 10 * time.Second
	srv, err := fs.Mount(dir, &ceilingRoot{}, &fs.Options{
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &timeout,
		MountOptions: fuse.MountOptions{
			FsName:      "fsbench-ceiling",
			Name:        "fsbench",
			DirectMount: os.Geteuid() == 0,
			MaxWrite:    64 * 1024,
			// As owfuse mounts: tiny values go out in one writev(2).
			DisableSplice: true,
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsbench ceiling:", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sigs
		if err := srv.Unmount(); err != nil {
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	}()
	srv.Wait()
	return 0
}
