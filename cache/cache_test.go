package cache_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// tree is a fake owserver's content: values by path, and directories
// listed from the values' paths.
type tree struct {
	mu      sync.Mutex
	values  map[string]string
	slash   bool          // answer DIRALLSLASH (else -42, as --no_dirall)
	delay   time.Duration // before every READ answer, to let requests overlap
	reads   map[string]int
	stalled map[string]bool // reads that time out (in-process only: see local)
}

func newTree() *tree {
	return &tree{slash: true, reads: map[string]int{}, stalled: map[string]bool{}, values: map[string]string{
		"/10.67C6697351FF/temperature":       "     21.5",
		"/10.67C6697351FF/temphigh":          "     75",
		"/10.67C6697351FF/alias":             "",
		"/10.67C6697351FF/family":            "10",
		"/10.67C6697351FF/errata/die":        "B7",
		"/settings/timeout/volatile":         "15",
		"/structure/10/temperature":          "t,000000,000001,ro,000012,v,",
		"/structure/10/temphigh":             "t,000000,000001,rw,000012,s,",
		"/structure/10/alias":                "l,000000,000001,rw,000256,f,",
		"/structure/10/family":               "a,000000,000001,ro,000002,f,",
		"/structure/10/errata/die":           "a,000000,000001,ro,000002,f,",
		"/structure/28/temperature":          "t,000000,000001,ro,000012,v,",
		"/28.4AEC29CDBAAB/temperature":       "     19.0",
		"/28.4AEC29CDBAAB/family":            "28",
		"/settings/units/temperature_scale":  "C",
		"/statistics/read/calls":             "7",
		"/10.67C6697351FF/errata/trim":       "0",
		"/structure/10/errata/trim":          "u,000000,000001,rw,000012,s,",
		"/structure/28/family":               "a,000000,000001,ro,000002,f,",
		"/10.67C6697351FF/type":              "DS18S20",
		"/structure/10/type":                 "a,000000,000001,ro,000032,f,",
		"/28.4AEC29CDBAAB/type":              "DS18B20",
		"/structure/28/type":                 "a,000000,000001,ro,000032,f,",
		"/statistics/read/success":           "7",
		"/structure/10/errata/unknownthings": "a,000000,000001,ro,000002,f,",
	}}
}

// strip removes the views that name the same device (uncached, bus.0).
func strip(p string) string {
	for _, pre := range []string{"/uncached", "/bus.0"} {
		if strings.HasPrefix(p, pre+"/") {
			p = p[len(pre):]
		}
	}
	return p
}

func (tr *tree) answer(r owtest.Request) (int32, []byte) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	p := strip(r.Path())
	for k, v := range tr.values {
		if v != "" && strings.HasSuffix(k, "/alias") && strings.HasPrefix(p, "/"+v+"/") {
			p = strings.TrimSuffix(k, "/alias") + p[len(v)+1:]
		}
	}
	switch r.Type {
	case owclient.MsgRead:
		tr.reads[p]++
		if tr.delay > 0 {
			tr.mu.Unlock()
			time.Sleep(tr.delay) // the server's pace, not synchronisation
			tr.mu.Lock()
		}
		if v, ok := tr.values[p]; ok {
			return int32(len(v)), []byte(v)
		}
		for k := range tr.values {
			if strings.HasPrefix(k, p+"/") {
				return -int32(syscall.EISDIR), nil
			}
		}
		return -1, nil
	case owclient.MsgWrite:
		if _, ok := tr.values[p]; !ok {
			return -1, nil
		}
		if strings.HasSuffix(p, "temphigh") && strings.Trim(string(r.Data()), "0123456789") != "" {
			return -int32(syscall.EINVAL), nil
		}
		tr.values[p] = string(r.Data())
		return 0, nil
	case owclient.MsgDirAllSlash, owclient.MsgDirAll, owclient.MsgDir:
		if r.Type == owclient.MsgDirAllSlash && !tr.slash {
			return -42, nil
		}
		dir := strings.TrimSuffix(p, "/")
		seen := map[string]bool{}
		var out []string
		for k := range tr.values {
			if !strings.HasPrefix(k, dir+"/") || strings.HasPrefix(k, "/structure") {
				continue
			}
			rest := k[len(dir)+1:]
			name, isDir := rest, false
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				name, isDir = rest[:i], true
			}
			if alias := tr.values["/"+name+"/alias"]; dir == "" && alias != "" {
				name = alias
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			e := dir + "/" + name
			if isDir && r.Type == owclient.MsgDirAllSlash {
				e += "/"
			}
			out = append(out, e)
		}
		s := strings.Join(out, ",")
		return 0, []byte(s)
	}
	return -42, nil
}

func (tr *tree) readCount(p string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.reads[p]
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// setup returns a cache in front of tr, answered in-process, on a clock
// of its own.
func setup(t *testing.T, tr *tree, opts cache.Options) (*cache.Cache, *clock) {
	t.Helper()
	return newCache(t, local{tr}, opts)
}

// setupWire is setup through a real owclient.Client and a fake owserver
// on a loopback port: what the cache gets from the wire, fallbacks
// included.
func setupWire(t *testing.T, tr *tree, opts cache.Options) (*cache.Cache, *clock) {
	t.Helper()
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) { c.Answer(tr.answer) })
	cl, err := owclient.New(srv.Addr, owclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return newCache(t, cl, opts)
}

func newCache(t *testing.T, cl cache.Client, opts cache.Options) (*cache.Cache, *clock) {
	t.Helper()
	clk := &clock{now: time.Unix(1e9, 0)}
	opts.Now = clk.Now
	if opts.Lifetimes == (cache.Lifetimes{}) {
		opts.Lifetimes = cache.DefaultLifetimes()
	}
	c, err := cache.New(cl, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

var bg = context.Background()

func mustRead(t *testing.T, c *cache.Cache, p string) string {
	t.Helper()
	b, err := c.Read(bg, p)
	if err != nil {
		t.Fatalf("Read(%s): %v", p, err)
	}
	return string(b)
}

func TestVolatileValueLivesItsLifetime(t *testing.T) {
	tr := newTree()
	c, clk := setup(t, tr, cache.Options{})
	const p = "/10.67C6697351FF/temperature"
	for i := 0; i < 3; i++ {
		if got := mustRead(t, c, p); got != "     21.5" {
			t.Fatalf("got %q", got)
		}
	}
	if n := tr.readCount(p); n != 1 {
		t.Fatalf("%d reads within the lifetime, want 1", n)
	}
	clk.Advance(cache.DefaultLifetimes().Volatile)
	mustRead(t, c, p)
	if n := tr.readCount(p); n != 2 {
		t.Fatalf("%d reads after the lifetime, want 2", n)
	}
	st := c.Stats()
	if st.Hits.Volatile != 2 || st.Misses.Volatile != 2 {
		t.Errorf("volatile hits %d misses %d, want 2 and 2", st.Hits.Volatile, st.Misses.Volatile)
	}
	if got := tr.readCount("/structure/10/temperature"); got != 1 {
		t.Errorf("structure read %d times, want once", got)
	}
}

// Metrics label counts by these words; a dashboard breaks if one changes.
func TestCountsLabels(t *testing.T) {
	got := map[string]uint64{}
	for name, n := range (cache.Counts{Fixed: 1, Stable: 2, Volatile: 3, Directory: 4}).All() {
		got[name] = n
	}
	if want := map[string]uint64{"fixed": 1, "stable": 2, "volatile": 3, "directory": 4}; !maps.Equal(got, want) {
		t.Errorf("Counts.All() = %v, want %v", got, want)
	}
}

func TestStableOutlivesVolatileAndZeroDisables(t *testing.T) {
	tr := newTree()
	l := cache.DefaultLifetimes()
	l.Volatile = 0
	c, clk := setup(t, tr, cache.Options{Lifetimes: l})
	mustRead(t, c, "/10.67C6697351FF/temphigh")
	mustRead(t, c, "/10.67C6697351FF/temperature")
	clk.Advance(5 * time.Second)
	mustRead(t, c, "/10.67C6697351FF/temphigh")
	mustRead(t, c, "/10.67C6697351FF/temperature")
	if tr.readCount("/10.67C6697351FF/temphigh") != 1 || tr.readCount("/10.67C6697351FF/temperature") != 2 {
		t.Fatalf("temphigh read %d times (want 1), temperature %d (want 2)",
			tr.readCount("/10.67C6697351FF/temphigh"), tr.readCount("/10.67C6697351FF/temperature"))
	}
}

func TestUncachedBypassesAndViewsShareValues(t *testing.T) {
	tr := newTree()
	c, _ := setup(t, tr, cache.Options{})
	mustRead(t, c, "/uncached/10.67C6697351FF/temperature")
	mustRead(t, c, "/uncached/10.67C6697351FF/temperature")
	if n := tr.readCount("/10.67C6697351FF/temperature"); n != 2 {
		t.Fatalf("uncached: %d reads, want 2", n)
	}
	mustRead(t, c, "/10.67C6697351FF/temperature")
	mustRead(t, c, "/bus.0/10.67C6697351FF/temperature")
	if n := tr.readCount("/10.67C6697351FF/temperature"); n != 3 {
		t.Fatalf("bus.0 view: %d reads, want 3 (one shared value)", n)
	}
}

func TestConcurrentReadsShareOneMessage(t *testing.T) {
	tr := newTree()
	tr.delay = 100 * time.Millisecond
	c, _ := setup(t, tr, cache.Options{})
	mustRead(t, c, "/10.67C6697351FF/type") // warm the structure line
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b, err := c.Read(bg, "/10.67C6697351FF/temperature"); err != nil || string(b) != "     21.5" {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d readers failed", failed.Load())
	}
	if n := tr.readCount("/10.67C6697351FF/temperature"); n != 1 {
		t.Fatalf("32 concurrent readers made %d reads, want 1", n)
	}
}

func TestWriteDropsValueAndAliasRenames(t *testing.T) {
	tr := newTree()
	c, _ := setup(t, tr, cache.Options{})
	mustRead(t, c, "/10.67C6697351FF/temphigh")
	if err := c.Write(bg, "/10.67C6697351FF/temphigh", []byte("30")); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, c, "/10.67C6697351FF/temphigh"); got != "30" {
		t.Fatalf("after write read %q, want 30", got)
	}
	err := c.Write(bg, "/10.67C6697351FF/temphigh", []byte("abc"))
	if !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("bad value: got %v, want EINVAL", err)
	}
	root, err := c.Dir(bg, "/")
	if err != nil || !hasEntry(root, "10.67C6697351FF", true) {
		t.Fatalf("root %v, %v", root, err)
	}
	if err := c.Write(bg, "/10.67C6697351FF/alias", []byte("kitchen")); err != nil {
		t.Fatal(err)
	}
	root, err = c.Dir(bg, "/")
	if err != nil || !hasEntry(root, "kitchen", true) || hasEntry(root, "10.67C6697351FF", true) {
		t.Fatalf("after alias write root is %v, %v", root, err)
	}
	// The alias path works, and its family is learnt from the device.
	if got := mustRead(t, c, "/kitchen/type"); got != "DS18S20" {
		t.Fatalf("read through alias: %q", got)
	}
	p, err := c.Property(bg, "/kitchen/temperature")
	if err != nil || !p.Known || p.Structure.Access != owclient.ReadOnly {
		t.Fatalf("property through alias: %+v, %v", p, err)
	}
}

func hasEntry(es []cache.Entry, name string, dir bool) bool {
	return slices.Contains(es, cache.Entry{Name: name, IsDir: dir})
}

func TestDirSortedWithTypes(t *testing.T) {
	for _, slash := range []bool{true, false} {
		t.Run(fmt.Sprintf("slash=%v", slash), func(t *testing.T) {
			tr := newTree()
			tr.slash = slash
			// Over the wire: without slashes, owclient falls back to
			// DIRALL and says so in DirSlashes.
			c, clk := setupWire(t, tr, cache.Options{})
			es, err := c.Dir(bg, "/10.67C6697351FF")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range es {
				names = append(names, e.Name)
			}
			want := "alias,errata,family,temperature,temphigh,type"
			if strings.Join(names, ",") != want {
				t.Fatalf("names %v, want %s", names, want)
			}
			if !hasEntry(es, "errata", true) || !hasEntry(es, "temperature", false) {
				t.Fatalf("types wrong: %+v", es)
			}
			before := c.Stats().DirMessages
			c.Dir(bg, "/10.67C6697351FF")
			clk.Advance(cache.DefaultLifetimes().Directory)
			c.Dir(bg, "/10.67C6697351FF")
			if got := c.Stats().DirMessages - before; got != 1 {
				t.Fatalf("%d listings for a cached and an expired one, want 1", got)
			}
		})
	}
}

func TestPropertyClasses(t *testing.T) {
	tr := newTree()
	c, _ := setup(t, tr, cache.Options{})
	cases := []struct {
		path  string
		class owclient.ChangeClass
		known bool
	}{
		{"/10.67C6697351FF/temperature", owclient.Volatile, true},
		{"/10.67C6697351FF/temphigh", owclient.Stable, true},
		{"/10.67C6697351FF/type", owclient.Fixed, true},
		{"/10.67C6697351FF/errata", owclient.Fixed, true}, // a directory: see below
		{"/10.67C6697351FF/nosuchthing", owclient.Volatile, false},
		{"/settings/timeout/volatile", owclient.Stable, false},
		{"/statistics/read/calls", owclient.Volatile, false},
		{"/structure/10/temperature", owclient.Fixed, false},
	}
	for _, tc := range cases {
		p, err := c.Property(bg, tc.path)
		if err != nil || p.Class != tc.class || p.Known != tc.known {
			t.Errorf("Property(%s) = %+v, %v; want class %v known %v", tc.path, p, err, tc.class, tc.known)
		}
	}
	if p, err := c.Property(bg, "/10.67C6697351FF/errata"); err != nil || !p.Structure.IsDir() {
		t.Errorf("Property(errata) = %+v, %v; want a directory", p, err)
	}
}

func TestSizeBound(t *testing.T) {
	tr := newTree()
	for i := 0; i < 50; i++ {
		tr.values[fmt.Sprintf("/settings/x/v%d", i)] = "1"
	}
	c, _ := setup(t, tr, cache.Options{Entries: 10})
	for i := 0; i < 50; i++ {
		mustRead(t, c, fmt.Sprintf("/settings/x/v%d", i))
	}
	if n := c.Len(); n > 10 {
		t.Fatalf("%d entries in a cache of 10", n)
	}
}

// A read that was under way when a write landed must not put the old value
// back into the cache.
func TestWriteDuringReadDoesNotCacheOldValue(t *testing.T) {
	tr := newTree()
	c, _ := setup(t, tr, cache.Options{})
	mustRead(t, c, "/10.67C6697351FF/type")
	mustRead(t, c, "/10.67C6697351FF/temphigh")
	c.Purge()
	mustRead(t, c, "/10.67C6697351FF/type") // structure lines again
	c.Property(bg, "/10.67C6697351FF/temphigh")
	tr.mu.Lock()
	tr.delay = 200 * time.Millisecond
	tr.mu.Unlock()
	done := make(chan string)
	go func() { b, _ := c.Read(bg, "/10.67C6697351FF/temphigh"); done <- string(b) }()
	for tr.readCount("/10.67C6697351FF/temphigh") < 2 {
		time.Sleep(time.Millisecond) // polling until the read reached the server
	}
	if err := c.Write(bg, "/10.67C6697351FF/temphigh", []byte("33")); err != nil {
		t.Fatal(err)
	}
	<-done
	if got := mustRead(t, c, "/10.67C6697351FF/temphigh"); got != "33" {
		t.Fatalf("after the write the cache served %q, want 33", got)
	}
}

// After a listing, the device directories in it are listed in the
// background, so that a walk finds them cached.
func TestReadaheadListsDevices(t *testing.T) {
	tr := newTree()
	c, _ := setup(t, tr, cache.Options{Readahead: 2})
	t.Cleanup(c.Close)
	if _, err := c.Dir(bg, "/"); err != nil {
		t.Fatal(err)
	}
	// Root, then both devices and the one's errata/ in the background:
	// four listings.
	deadline := time.Now().Add(5 * time.Second)
	for c.Len() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("%d listings cached after readahead, want 4", c.Len())
		}
		time.Sleep(time.Millisecond) // polling for the background work
	}
	before := c.Stats()
	for _, dev := range []string{"/10.67C6697351FF", "/28.4AEC29CDBAAB", "/10.67C6697351FF/errata"} {
		if _, err := c.Dir(bg, dev); err != nil {
			t.Fatal(err)
		}
	}
	after := c.Stats()
	if after.DirMessages != before.DirMessages || after.Hits.Directory-before.Hits.Directory != 3 {
		t.Fatalf("device listings after readahead: %d new messages, %d hits; want 0 and 3",
			after.DirMessages-before.DirMessages, after.Hits.Directory-before.Hits.Directory)
	}
	// settings is no device: not read ahead.
	if n := after.DirMessages; n != 4 {
		t.Fatalf("%d listings in all, want 4", n)
	}
}

// A directory without subdirectories, from a server that marks them, is
// listed with one message: no entry is probed.
func TestListingWithoutSubdirsSendsOneMessage(t *testing.T) {
	tr := newTree()
	c, _ := setup(t, tr, cache.Options{})
	es, err := c.Dir(bg, "/28.4AEC29CDBAAB")
	if err != nil || len(es) != 3 || hasEntry(es, "temperature", true) {
		t.Fatalf("listing %+v, %v", es, err)
	}
	if st := c.Stats(); st.Messages() != 1 {
		t.Fatalf("%d messages (%d reads) for one listing, want 1", st.Messages(), st.ReadMessages)
	}
}
