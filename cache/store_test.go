package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// TestStoreBytes checks the byte accounting through every way an entry
// comes and goes: added, replaced, evicted by count and by bytes,
// removed, purged, and refused for being larger than the whole budget.
func TestStoreBytes(t *testing.T) {
	val := func(n int) entry { return entry{value: make([]byte, n)} }
	s, err := newStore(3, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	// sum recomputes what the store should count.
	sum := func() (n int64) {
		for _, k := range s.Keys() {
			e, _ := s.Peek(k)
			n += size(k, e)
		}
		return n
	}
	check := func(what string, keys ...string) {
		t.Helper()
		if got := strings.Join(s.Keys(), ","); got != strings.Join(keys, ",") {
			t.Errorf("%s: keys %s, want %s", what, got, strings.Join(keys, ","))
		}
		if s.Bytes() != sum() || s.Bytes() > s.maxBytes {
			t.Errorf("%s: %d bytes counted, %d held, limit %d", what, s.Bytes(), sum(), s.maxBytes)
		}
	}
	s.Add("a", val(1000))
	s.Add("b", val(1000))
	check("added", "a", "b")
	s.Add("a", val(3000))
	check("replaced", "b", "a")
	s.Add("c", val(10))
	s.Add("d", val(10))
	check("evicted by count", "a", "c", "d")
	s.Add("e", val(9700)) // with c and d, 10,207 bytes counted
	check("evicted by bytes", "d", "e")
	s.Remove("e")
	check("removed", "d")
	s.Add("d", val(20_000))
	check("too big for the budget: dropped, not stored")
	s.Add("f", entry{value: []Entry{{Name: "temperature"}, {Name: "errata", IsDir: true}}})
	s.Add("g", val(100))
	check("listing", "f", "g")
	s.Purge()
	check("purged")
	if s.Bytes() != 0 {
		t.Errorf("%d bytes counted in an empty store", s.Bytes())
	}
}

// TestCacheBytesBound reads 300 values of 64 KiB, the most a READ
// returns, with a budget of 1 MiB: the cache keeps the most recent ones
// that fit, and its count of bytes never passes the budget. Without it,
// the entry count alone (4,096) let 300 values of 4 MiB take 1.2 GB.
func TestCacheBytesBound(t *testing.T) {
	const budget = 1 << 20
	value := strings.Repeat("x", owclient.DefaultReadSize)
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		c.Answer(func(r owtest.Request) (int32, []byte) {
			if strings.HasPrefix(r.Path(), "/structure/") {
				return 28, []byte("b,000000,000001,ro,065536,f,")
			}
			return int32(len(value)), []byte(value)
		})
	})
	client, err := owclient.New(srv.Addr, owclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := New(client, Options{Lifetimes: DefaultLifetimes(), Bytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	path := func(i int) string { return fmt.Sprintf("/10.%012X/memory", i) }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 1; i <= 300; i++ {
		if v, err := c.Read(ctx, path(i)); err != nil || len(v) != len(value) {
			t.Fatalf("read %s: %d bytes, %v", path(i), len(v), err)
		}
		if b := c.Bytes(); b > budget {
			t.Fatalf("after %d reads the cache holds %d bytes, budget %d", i, b, budget)
		}
	}
	if _, _, ok := c.Cached(path(300)); !ok {
		t.Error("the last value read is not cached")
	}
	if _, _, ok := c.Cached(path(1)); ok {
		t.Error("the first value read is still cached")
	}
	if n := c.Len(); n < 10 || n > 16 {
		t.Errorf("%d values cached, want the 15 that fit in 1 MiB", n)
	}
}
