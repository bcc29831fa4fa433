package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owfs"
)

// ceilingMode is the hidden first argument that makes fsbench serve the
// ceiling filesystem instead of benchmarking: `fsbench ceiling MOUNTPOINT`.
// The FUSE server thus runs in its own process with Go's defaults, as
// owfuse does, and never shares a Go runtime with the workload loops.
const ceilingMode = "ceiling"

// constValue is what the ceiling's file holds: 12 bytes, the size of a
// temperature as owserver pads it.
const constValue = "     21.5625"

// ceilingFile is the ceiling's one file, at the root: the least a FUSE
// filesystem mounted as owfuse is (owfs.KernelOptions, owfs.ReadOpenFlags)
// can do for open, read and close. Its size is 0, as owfuse's properties
// report before a first read.
const ceilingFile = "temperature"

type ceilingRoot struct{ fs.Inode }

func (r *ceilingRoot) OnAdd(ctx context.Context) {
	f := r.NewPersistentInode(ctx, &constFile{}, fs.StableAttr{Mode: syscall.S_IFREG})
	r.AddChild(ceilingFile, f, false)
}

type constFile struct{ fs.Inode }

var (
	_ fs.NodeOpener    = (*constFile)(nil)
	_ fs.NodeReader    = (*constFile)(nil)
	_ fs.NodeGetattrer = (*constFile)(nil)
)

func (f *constFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Mode = syscall.S_IFREG | 0o444
	out.Nlink = 1
	return 0
}

func (f *constFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EACCES
	}
	return nil, owfs.ReadOpenFlags, 0
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
	mo := fuse.MountOptions{FsName: "fsbench-ceiling", Name: "fsbench", DirectMount: os.Geteuid() == 0}
	opts := owfs.KernelOptions(mo, cache.DefaultLifetimes().Directory, uint32(os.Getuid()), uint32(os.Getgid()))
	srv, err := fs.Mount(dir, &ceilingRoot{}, opts)
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
