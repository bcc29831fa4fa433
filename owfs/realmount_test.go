package owfs

import (
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// realMount mounts the owserver at addr in a temporary directory, in this
// process, with the kernel settings of a real mount, and returns the
// directory and a function that unmounts it.
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
	return dir, func() {
		deadline := time.Now().Add(5 * time.Second)
		for srv.Unmount() != nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond) // polling a busy mount
		}
		c.Close()
		client.Close()
	}
}
