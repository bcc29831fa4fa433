package owclient_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// serverErrorText reads path, which must fail with a *ServerError, and
// returns the error's text.
func serverErrorText(t *testing.T, ctx context.Context, c *owclient.Client, path string) string {
	t.Helper()
	_, err := c.Read(ctx, path)
	var se *owclient.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("read %s: got %v, want a *ServerError", path, err)
	}
	return se.Text
}

// gate holds the fake server's answer to the error table until open is
// called; a test defers open, so that the server's cleanup, which waits
// for its scripts, never waits for the gate.
func gate() (wait, open func()) {
	ch := make(chan struct{})
	return func() { <-ch }, sync.OnceFunc(func() { close(ch) })
}

// Callers that get a server error at the same moment share one fetch of
// the error table, and all get its text.
func TestErrorTableFetchedOnceForConcurrentCallers(t *testing.T) {
	var fetches atomic.Int64
	wait, open := gate()
	defer open()
	srv := owtest.NewFakeServer(t, errorServer(func() bool { fetches.Add(1); wait(); return true }))
	const callers = 8
	var failed sync.WaitGroup // callers that have their error reply
	failed.Add(callers)
	c := newClient(t, srv.Addr, owclient.Options{OnMessage: func(_ owclient.MsgType, outcome string, _ time.Duration) {
		if outcome == owclient.OutcomeServerError {
			failed.Done()
		}
	}})
	var waiting atomic.Int64
	owclient.SetErrTextWaiting(c, func() { waiting.Add(1) })
	texts := make(chan string, callers)
	for range callers {
		go func() {
			_, err := c.Read(context.Background(), "/err/95")
			var se *owclient.ServerError
			if errors.As(err, &se) {
				texts <- se.Text
			} else {
				texts <- err.Error()
			}
		}()
	}
	failed.Wait()
	// The gate holds the first fetch until every caller waits for a
	// fetch: a caller that started a second one would be counted below.
	for deadline := time.Now().Add(10 * time.Second); waiting.Load() < callers; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d callers wait for the error table", waiting.Load(), callers)
		}
	}
	open()
	for range callers {
		if text := <-texts; text != "legacy - Not supported" {
			t.Errorf("got %q, want OWFS's text for 95", text)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches of the error table for %d concurrent callers, want 1", n, callers)
	}
}

// A caller whose context ends while the table is being fetched returns
// at once, with the errno's text; the fetch goes on and serves the next
// error.
func TestCancelledCallerDoesNotWaitForTheErrorTable(t *testing.T) {
	var fetches atomic.Int64
	fetching := make(chan struct{})
	wait, open := gate()
	defer open()
	srv := owtest.NewFakeServer(t, errorServer(func() bool {
		if fetches.Add(1) == 1 {
			close(fetching)
		}
		wait()
		return true
	}))
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-fetching; cancel() }()
	var err error
	took := within(t, 5*time.Second, func() { _, err = c.Read(ctx, "/err/95") })
	var se *owclient.ServerError
	if !errors.As(err, &se) || se.Text != syscall.EOPNOTSUPP.Error() {
		t.Errorf("cancelled caller: got %v, want a *ServerError with the errno's text", err)
	}
	if took > time.Second {
		t.Errorf("cancelled caller returned after %v: it waited for the fetch", took)
	}
	open()
	if text := serverErrorText(t, context.Background(), c, "/err/95"); text != "legacy - Not supported" {
		t.Errorf("next caller: got %q, want OWFS's text from the fetch", text)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

// A failed fetch is not repeated for every error, nor cached for good.
func TestFailedErrorTableFetchIsRetriedLater(t *testing.T) {
	var fetches atomic.Int64
	srv := owtest.NewFakeServer(t, errorServer(func() bool { return fetches.Add(1) > 1 }))
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx := context.Background()
	for i, want := range []struct {
		retry   time.Duration
		text    string
		fetches int64
	}{
		{time.Hour, syscall.EOPNOTSUPP.Error(), 1}, // the fetch fails
		{time.Hour, syscall.EOPNOTSUPP.Error(), 1}, // not tried again at once
		{0, "legacy - Not supported", 2},           // tried again later
		{0, "legacy - Not supported", 2},           // and kept
	} {
		owclient.SetErrTextRetry(c, want.retry)
		if text := serverErrorText(t, ctx, c, "/err/95"); text != want.text || fetches.Load() != want.fetches {
			t.Errorf("error %d: got %q after %d fetches, want %q after %d", i, text, fetches.Load(), want.text, want.fetches)
		}
	}
}
