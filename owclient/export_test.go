package owclient

import "time"

// SetErrTextRetry sets how long c and its clones wait after a failed fetch
// of the error-text table before they try again. Call it before c's first
// request.
func SetErrTextRetry(c *Client, d time.Duration) { c.server.errTexts.retry = d }

// SetErrTextWaiting makes every caller of c and its clones call f as it
// starts to wait for a fetch of the error-text table. Call it before c's
// first request.
func SetErrTextWaiting(c *Client, f func()) { c.server.errTexts.testHookWaiting = f }
