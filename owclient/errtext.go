package owclient

import (
	"context"
	"strings"
	"syscall"
	"time"
)

// errTextPath holds OWFS's message for every return code, comma-separated
// and indexed by the negated code (4983 bytes on owserver 3.2p4).
const errTextPath = "/settings/return_codes/text.ALL"

// errTextTimeout bounds the one-time fetch of the message table, which runs
// even when the failing call's own context has expired.
const errTextTimeout = 2 * time.Second

// errTextRetry spaces out fetches of the table from a server that failed to
// give it, so that a run of errors does not become a run of fetches.
const errTextRetry = 10 * time.Second

// serverError builds the error for return code -code, with OWFS's text for
// it, fetching the table on first use.
func (c *Client) serverError(ctx context.Context, op, path string, code int32) *ServerError {
	return &ServerError{Op: op, Path: path, Code: code, Text: c.errorText(ctx, code)}
}

func (c *Client) errorText(ctx context.Context, code int32) string {
	st := c.server
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.errText == nil && time.Since(st.errTextTried) > errTextRetry {
		st.errTextTried = time.Now()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), errTextTimeout)
		defer cancel()
		rep, err := c.roundTrip(ctx, "read", errTextPath, request{typ: MsgRead, flags: c.flags &^ FlagTrim,
			payload: pathPayload(errTextPath, nil), size: DefaultReadSize})
		if err == nil && rep.hdr.Ret > 0 {
			st.errText = strings.Split(string(rep.data), ",")
		}
	}
	if code >= 0 && int(code) < len(st.errText) && st.errText[code] != "" {
		return st.errText[code]
	}
	// Fetch failed (it is tried again next time) or code out of range.
	return syscall.Errno(code).Error()
}
