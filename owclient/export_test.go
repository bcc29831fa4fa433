package owclient

import "time"

// SetErrTextRetry sets how long c and its clones wait after a failed fetch
// of the error-text table before they try again. Call it before c's first
// request.
func SetErrTextRetry(c *Client, d time.Duration) { c.server.errTexts.retry = d }
