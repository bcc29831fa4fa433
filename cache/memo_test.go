package cache_test

import (
	"testing"
	"time"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// A read that timed out answers the same read again without a message
// for cache.FailMemo on the cache's clock, and no longer: the kernel's
// retry of a failed lookup must not cost a hung server a second timeout,
// and a server that answers again must be asked again.
func TestTimeoutMemoExpiresOnTheCachesClock(t *testing.T) {
	tr := newTree()
	const p = "/settings/timeout/volatile"
	tr.stalled[p] = true
	c, clk := setup(t, tr, cache.Options{})
	for i := 0; i < 3; i++ {
		if _, err := c.Read(bg, p); !owclient.IsTimeout(err) {
			t.Fatalf("read %d: got %v, want a timeout", i, err)
		}
	}
	if n := tr.readCount(p); n != 1 {
		t.Fatalf("three reads within the memo sent %d messages, want 1", n)
	}
	clk.Advance(cache.FailMemo - time.Nanosecond)
	if _, err := c.Read(bg, p); !owclient.IsTimeout(err) || tr.readCount(p) != 1 {
		t.Fatalf("just before the memo ends: got %v after %d messages, want the timeout remembered", err, tr.readCount(p))
	}
	tr.mu.Lock()
	tr.stalled[p] = false
	tr.mu.Unlock()
	clk.Advance(time.Nanosecond)
	if got := mustRead(t, c, p); got != "15" {
		t.Fatalf("after the memo: got %q, want 15", got)
	}
	if n := tr.readCount(p); n != 2 {
		t.Fatalf("after the memo: %d messages, want 2", n)
	}
}

// Any answer from owserver ends every remembered timeout at once, and a
// refusal is never remembered: it comes fast anyway.
func TestTimeoutMemoEndsWhenOwserverAnswers(t *testing.T) {
	tr := newTree()
	const p = "/settings/timeout/volatile"
	tr.stalled[p] = true
	c, _ := setup(t, tr, cache.Options{})
	if _, err := c.Read(bg, p); !owclient.IsTimeout(err) {
		t.Fatalf("got %v, want a timeout", err)
	}
	tr.mu.Lock()
	tr.stalled[p] = false
	tr.mu.Unlock()
	mustRead(t, c, "/statistics/read/calls") // owserver answers
	if got := mustRead(t, c, p); got != "15" || tr.readCount(p) != 2 {
		t.Fatalf("after another answer: got %q after %d messages, want 15 after 2", got, tr.readCount(p))
	}

	const missing = "/settings/no/such"
	for i := 0; i < 2; i++ {
		if _, err := c.Read(bg, missing); !owclient.IsNotExist(err) {
			t.Fatalf("got %v, want owserver's refusal", err)
		}
	}
	if n := tr.readCount(missing); n != 2 {
		t.Fatalf("two reads of a refused path sent %d messages, want 2", n)
	}
}

// A read under uncached/ is never shared, but its timeout is remembered
// too: the kernel looks names up in a directory one at a time, so callers
// waiting there for a frozen owserver would each wait a timeout in turn.
func TestTimeoutMemoCoversUncached(t *testing.T) {
	tr := newTree()
	const p = "/settings/timeout/volatile"
	tr.stalled[p] = true
	c, clk := setup(t, tr, cache.Options{})
	for i := 0; i < 3; i++ {
		if _, err := c.Read(bg, "/uncached"+p); !owclient.IsTimeout(err) {
			t.Fatalf("read %d: got %v, want a timeout", i, err)
		}
	}
	if n := tr.readCount(p); n != 1 {
		t.Fatalf("three uncached reads within the memo sent %d messages, want 1", n)
	}
	tr.mu.Lock()
	tr.stalled[p] = false
	tr.mu.Unlock()
	clk.Advance(cache.FailMemo)
	if got := mustRead(t, c, "/uncached"+p); got != "15" || tr.readCount(p) != 2 {
		t.Fatalf("after the memo: got %q after %d messages, want 15 after 2", got, tr.readCount(p))
	}
}
