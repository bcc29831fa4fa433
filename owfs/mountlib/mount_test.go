package mountlib_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// testMount mounts a fresh owserver started with args in a temporary
// directory, in this process, and unmounts it when the test ends.
func testMount(t *testing.T, cfg mountlib.Config, args ...string) (*mountlib.Mounted, *owtest.Owserver) {
	t.Helper()
	requireFUSEHere(t)
	srv := owtest.StartOwserver(t, args...)
	m, err := mountlib.Mount(context.Background(), srv.Addr, t.TempDir(), cfg)
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
	cfg := mountlib.DefaultConfig()
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
	m, _ := testMount(t, mountlib.DefaultConfig(), "--fake", "10,28")
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

// Readers stay exact while values change underneath: owserver --fake
// returns a new random value on every read, lifetimes are short, and
// readers (whole-file and in small pieces), stat callers and writers run
// at once. Every read must be one whole value: digits and one newline.
// (A page-cache scheme with exact sizes failed exactly this: the size is
// the inode's, shared by handles that hold different values.)
func TestReadersStayExactWhileValuesChange(t *testing.T) {
	cfg := mountlib.DefaultConfig()
	cfg.Lifetimes.Volatile = 30 * time.Millisecond
	cfg.Lifetimes.Stable = 50 * time.Millisecond
	m, _ := testMount(t, cfg, "--fake", "10")
	temp := filepath.Join(m.Dir, "10.67C6697351FF", "temperature")
	setting := filepath.Join(m.Dir, "settings", "timeout", "volatile")
	valid := regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?\n$`)
	deadline := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	var reads, bad atomic.Int64
	check := func(p string, b []byte, err error) {
		reads.Add(1)
		if err != nil || !valid.Match(b) {
			if bad.Add(1) <= 5 {
				t.Errorf("read %s: %q, %v", p, b, err)
			}
		}
	}
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for j := 0; time.Now().Before(deadline); j++ {
				p := temp
				if j%3 == 0 {
					p = setting
				}
				if i%2 == 0 {
					b, err := os.ReadFile(p)
					check(p, b, err)
					continue
				}
				f, err := os.Open(p)
				if err != nil {
					check(p, nil, err)
					continue
				}
				var got []byte
				for {
					n, err := f.Read(buf[:7]) // small reads: several per value
					got = append(got, buf[:n]...)
					if err != nil || n == 0 {
						break
					}
				}
				f.Close()
				check(p, got, nil)
			}
		}()
	}
	wg.Add(2)
	go func() { // stat callers mix attribute replies in
		defer wg.Done()
		for time.Now().Before(deadline) {
			os.Stat(temp)
			os.Stat(setting)
		}
	}()
	go func() { // writers change the stable value
		defer wg.Done()
		for v := 10; time.Now().Before(deadline); v++ {
			if err := os.WriteFile(setting, []byte(strconv.Itoa(v%90+10)+"\n"), 0); err != nil {
				t.Errorf("write: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	t.Logf("%d reads, %d bad", reads.Load(), bad.Load())
	if reads.Load() < 100 {
		t.Fatalf("only %d reads", reads.Load())
	}
}
