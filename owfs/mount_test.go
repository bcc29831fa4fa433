package owfs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/owfuse/owfuse/owclient/owtest"
	"github.com/owfuse/owfuse/owfs"
)

// testMount mounts a fresh owserver started with args in a temporary
// directory, in this process, and unmounts it when the test ends.
func testMount(t *testing.T, cfg owfs.Config, args ...string) (*owfs.Mounted, *owtest.Owserver) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if owtest.InCI() {
			t.Fatal("/dev/fuse is missing (CI=true: this fails the run)")
		}
		t.Skip("no /dev/fuse")
	}
	srv := owtest.StartOwserver(t, args...)
	m, err := owfs.Mount(context.Background(), srv.Addr, t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if lazy, err := m.Unmount(); err != nil || lazy {
			t.Errorf("unmount: lazy %v, %v", lazy, err)
		}
	})
	return m, srv
}

// Many readers of one property at once share owserver messages, counted
// by the cache.
func TestConcurrentReadersShareMessages(t *testing.T) {
	cfg := owfs.DefaultConfig()
	cfg.Lifetimes.Volatile = 0 // nothing stored: only sharing can save messages
	m, _ := testMount(t, cfg, "--fake", "10")
	p := filepath.Join(m.Dir, "10.67C6697351FF", "temperature")
	if _, err := os.ReadFile(p); err != nil { // lookups and the structure line
		t.Fatal(err)
	}
	before := m.Cache.Stats()
	const readers = 32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, readers)
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b, err := os.ReadFile(p)
			if err == nil && !strings.HasSuffix(string(b), "\n") {
				err = os.ErrInvalid
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	msgs := m.Cache.Stats().ReadMessages - before.ReadMessages
	if msgs >= readers || msgs == 0 {
		t.Fatalf("%d readers made %d owserver reads, want fewer (and some)", readers, msgs)
	}
	t.Logf("%d readers, %d owserver reads", readers, msgs)
}

// Listing a device again within the directory lifetime costs no owserver
// message.
func TestWarmListingIsFree(t *testing.T) {
	m, _ := testMount(t, owfs.DefaultConfig(), "--fake", "10,28")
	dev := filepath.Join(m.Dir, "28.4AEC29CDBAAB")
	list := func() {
		es, err := os.ReadDir(dev)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if _, err := e.Info(); err != nil {
				t.Fatal(err)
			}
		}
	}
	list()
	before := m.Cache.Stats().Messages()
	list()
	list()
	if n := m.Cache.Stats().Messages() - before; n != 0 {
		t.Fatalf("warm listings sent %d owserver messages, want 0", n)
	}
}
