package owclient

import (
	"context"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/singleflight"
)

// errTextPath holds OWFS's message for every return code, comma-separated
// and indexed by the negated code (4983 bytes on owserver 3.2p4).
const errTextPath = "/settings/return_codes/text.ALL"

// errTextTimeout bounds a fetch of the message table. The fetch does not
// end with the context of the caller that started it: others may be
// waiting for it, and later errors need the table too.
const errTextTimeout = 2 * time.Second

// errTextRetry spaces out fetches of the table from a server that failed to
// give it, so that a run of errors does not become a run of fetches.
const errTextRetry = 10 * time.Second

// errTexts is OWFS's message table, fetched once per server; a Client and
// its clones share it.
type errTexts struct {
	fetch singleflight.Group // concurrent callers share one fetch
	retry time.Duration      // errTextRetry; tests shorten it
	// testHookWaiting, if set, is called by each caller as it starts to
	// wait for a fetch (as net/http's testHook funcs are).
	testHookWaiting func()

	mu       sync.Mutex // guards following
	table    []string   // nil until a fetch succeeds
	failedAt time.Time  // when the last fetch failed
}

// serverError builds the error for return code -code, with OWFS's text for
// it, fetching the table on first use.
func (c *Client) serverError(ctx context.Context, op, path string, code int32) *ServerError {
	return &ServerError{Op: op, Path: path, Code: code, Text: c.errorText(ctx, code)}
}

// errorText returns OWFS's text for code, or the errno's when the table
// is not to be had before ctx ends or does not hold code.
func (c *Client) errorText(ctx context.Context, code int32) string {
	if table := c.errTextTable(ctx); code >= 0 && int(code) < len(table) && table[code] != "" {
		return table[code]
	}
	return syscall.Errno(code).Error()
}

// errTextTable returns the message table, fetching it unless it is held
// or the last fetch failed less than retry ago; nil if there is none.
// Concurrent callers share one fetch, which holds no lock while it waits
// for owserver. A caller whose ctx ends stops waiting, with nil; the fetch
// goes on for the others and for later errors.
func (c *Client) errTextTable(ctx context.Context) []string {
	et := &c.server.errTexts
	et.mu.Lock()
	table, failedAt := et.table, et.failedAt
	et.mu.Unlock()
	if table != nil || time.Since(failedAt) < et.retry {
		return table
	}
	fetch := et.fetch.DoChan("", func() (any, error) { return c.fetchErrTexts(ctx), nil })
	if et.testHookWaiting != nil {
		et.testHookWaiting()
	}
	select {
	case r := <-fetch:
		return r.Val.([]string)
	case <-ctx.Done():
		return nil
	}
}

// fetchErrTexts reads the table from owserver, unless a fetch that ended
// just now got it, and records the outcome.
func (c *Client) fetchErrTexts(ctx context.Context) []string {
	et := &c.server.errTexts
	et.mu.Lock()
	table := et.table
	et.mu.Unlock()
	if table != nil {
		return table
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), errTextTimeout)
	defer cancel()
	rep, err := c.roundTrip(ctx, "read", errTextPath, request{typ: MsgRead, flags: c.flags &^ FlagTrim,
		payload: pathPayload(errTextPath, nil), size: DefaultReadSize})
	if err == nil && rep.hdr.Ret > 0 {
		table = strings.Split(string(rep.data), ",")
	}
	et.mu.Lock()
	defer et.mu.Unlock()
	if table != nil {
		et.table = table
	} else {
		et.failedAt = time.Now()
	}
	return table
}
