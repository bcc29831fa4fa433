package owfs

import (
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// realMount mounts the owserver at addr in a temporary directory, in this
// process, with the kernel settings of a real mount, and returns the
// directory and a function that unmounts it (at the latest when the test
// ends).
func realMount(t *testing.T, addr string, lifetimes cache.Lifetimes, opts Options) (string, func()) {
	t.Helper()
	client, err := owclient.New(addr, owclient.Options{Flags: owclient.FlagOwnet | owclient.FlagBusRet | owclient.FlagTrim})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.New(client, cache.Options{Lifetimes: lifetimes})
	if err != nil {
		t.Fatal(err)
	}
	root := New(c, opts)
	dir := t.TempDir()
	srv, err := fs.Mount(dir, root, root.FSOptions(fuse.MountOptions{DirectMount: true}))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unmount := func() {
		once.Do(func() {
			// A copier may still be closing its file: retry a busy mount
			// for a while, then detach it, so that none is left behind.
			var err error
			for deadline := time.Now().Add(5 * time.Second); ; {
				if err = srv.Unmount(); err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond) // polling a busy mount
			}
			if err != nil {
				t.Errorf("unmount %s: %v; detaching it", dir, err)
				syscall.Unmount(dir, syscall.MNT_DETACH)
			}
			c.Close()
			client.Close()
		})
	}
	t.Cleanup(unmount) // also after a t.Fatal between mount and unmount
	return dir, unmount
}
