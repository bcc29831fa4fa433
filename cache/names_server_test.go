package cache_test

import (
	"context"
	"net"
	"testing"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// realCache returns a cache in front of a real `owserver --tester` with
// the given families, with the default lifetimes and no readahead, so
// that the tests count every message.
func realCache(t *testing.T, families string, args ...string) *cache.Cache {
	t.Helper()
	srv := owtest.StartOwserver(t, append([]string{"--tester", families}, args...)...)
	cl, err := owclient.New(srv.Addr, owclient.Options{Flags: owclient.FlagTrim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	c, err := cache.New(cl, cache.Options{Lifetimes: cache.DefaultLifetimes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// A write through one spelling of a device's id drops the value cached
// under every other, and so does a write through its alias. owserver's
// simulated devices do not keep written values, so the test counts the
// reads that reach owserver: every spelling shares one cached value,
// which a write through any of them drops.
func TestWriteDropsEverySpelling(t *testing.T) {
	c := realCache(t, "10,28")
	spellings := []string{"/28.000028D70100", "/28.000028d70100", "/28000028D70100", "/28.000028D70100.D5", "/uncached/bus.0/28000028d70100d5"}
	reads := func() uint64 { return c.Stats().ReadMessages }
	readAll := func(names []string) uint64 {
		before := reads()
		for _, n := range names {
			if got := mustRead(t, c, n+"/temphigh"); got == "" {
				t.Fatalf("%s/temphigh is empty", n)
			}
		}
		return reads() - before
	}
	cached := spellings[:4] // /uncached/ reads always reach owserver
	readAll(cached)         // structure line and first value
	if n := readAll(cached); n != 0 {
		t.Fatalf("%d owserver reads for a value cached under another spelling, want 0", n)
	}
	for _, writer := range spellings {
		if err := c.Write(bg, writer+"/temphigh", []byte("71")); err != nil {
			t.Fatalf("write %s: %v", writer, err)
		}
		var others []string
		for _, r := range cached {
			if r != writer {
				others = append(others, r)
			}
		}
		if n := readAll(others); n != 1 {
			t.Errorf("after a write through %s, %d owserver reads through the other spellings, want 1", writer, n)
		}
	}

	if err := c.Write(bg, "/10.000010EF0000/alias", []byte("lounge")); err != nil {
		t.Fatal(err)
	}
	readAll([]string{"/10.000010EF0000", "/lounge"})
	for _, w := range [][2]string{{"/lounge", "/10.000010EF0000"}, {"/10000010ef0000", "/lounge"}} {
		if err := c.Write(bg, w[0]+"/temphigh", []byte("66")); err != nil {
			t.Fatal(err)
		}
		if n := readAll(w[1:]); n != 1 {
			t.Errorf("after a write through %s, %d owserver reads through %s, want 1", w[0], n, w[1])
		}
	}
}

// Present asks owserver once per lifetime, answers every spelling it
// accepts, refuses a wrong CRC, and reports a dead server as an error, not
// as absence.
func TestPresent(t *testing.T) {
	c := realCache(t, "10,28")
	for p, want := range map[string]bool{
		"/28.000028d70100": true, "/28000028D70100": true, "/28.000028D70100.D5": true,
		"/28.000028D70100.00": false, "/28.000028D70101": false, "/uncached/bus.0/10.000010ef0000": true,
	} {
		for i := 0; i < 2; i++ {
			got, err := c.Present(bg, p)
			if err != nil || got != want {
				t.Errorf("Present(%s) = %v, %v; want %v", p, got, err, want)
			}
		}
	}
	if n := c.Stats().PresenceMessages; n != 6 {
		t.Errorf("%d presence messages for 6 paths asked twice, want 6", n)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens there now
	cl, err := owclient.New(dead, owclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dc, err := cache.New(cl, cache.Options{Lifetimes: cache.DefaultLifetimes()})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	if ok, err := dc.Present(context.Background(), "/28.000028D70100"); err == nil {
		t.Errorf("Present with owserver down = %v, nil; want an error", ok)
	}
}

// The slashed /structure entries owserver refuses to list are files,
// under /uncached/ too, and finding that out costs a walk nothing: the
// probes are the listings it makes next.
func TestStructureSlashedFiles(t *testing.T) {
	c := realCache(t, "10")
	files := map[string]bool{"/structure/1F/main": true, "/structure/1F/aux": true, "/structure/12/aux": true}
	for _, top := range []string{"/structure", "/uncached/structure"} {
		for _, fam := range []string{"1F", "12"} {
			es, err := c.Dir(bg, top+"/"+fam)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if files["/structure/"+fam+"/"+e.Name] && e.IsDir {
					t.Errorf("%s/%s/%s is a directory; owserver refuses to list it", top, fam, e.Name)
				}
			}
		}
	}
	if _, err := c.Dir(bg, "/structure"); err != nil {
		t.Fatal(err)
	}
	before := c.Stats().Messages()
	var walk func(p string) int
	walk = func(p string) int {
		es, err := c.Dir(bg, p)
		if err != nil {
			t.Fatalf("list %s: %v", p, err)
		}
		n := 0
		for _, e := range es {
			if e.IsDir {
				n += 1 + walk(p+"/"+e.Name)
			}
		}
		return n
	}
	dirs := walk("/structure")
	if n := c.Stats().Messages() - before; n != 0 {
		t.Errorf("a walk of /structure's %d directories after listing it sent %d messages, want 0", dirs, n)
	}
	if dirs < 100 {
		t.Errorf("only %d directories under /structure", dirs)
	}
}
