package owclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"
)

// ErrClosed is returned by calls on a Client after Close.
var ErrClosed = errors.New("owclient: client closed")

// ErrTimeout is matched (with errors.Is) by every timeout: the context's
// deadline passing, or no frame arriving within [Options.FrameTimeout].
var ErrTimeout = errors.New("owclient: timeout")

// Sentinels for the kinds of [ProtocolError]; match them with errors.Is.
var (
	ErrMalformedHeader = errors.New("malformed header")
	ErrPayloadTooLarge = errors.New("payload too large")
	ErrShortRead       = errors.New("short read")
	ErrShortWrite      = errors.New("short write")
	ErrUnexpectedReply = errors.New("unexpected reply")
	// ErrListingTooLarge: a directory listing of more than MaxDirEntries
	// entries, or more bytes than Options.MaxPayload.
	ErrListingTooLarge  = errors.New("listing too large")
	errInvalidPath      = errors.New("invalid path")
	errDeadlineExceeded = fmt.Errorf("%w: operation deadline exceeded: %w", ErrTimeout, context.DeadlineExceeded)
)

// OpError is the error of a call that did not get a reply from owserver:
// the network failed, the reply was malformed, or time ran out.
type OpError struct {
	Op   string // "read", "write", "dir", "presence", "ping" or "send"
	Path string // the owserver path, empty for ping
	Addr string // the server address
	Err  error  // a *ConnError, *ProtocolError, a timeout or context.Canceled
}

func (e *OpError) Error() string {
	s := "owclient: " + e.Op
	if e.Path != "" {
		s += " " + e.Path
	}
	return s + " on " + e.Addr + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the call ran out of time.
func (e *OpError) Timeout() bool { return errors.Is(e.Err, ErrTimeout) }

// ConnError is a network failure: the server could not be reached (Err is
// then a *net.OpError with Op "dial"), or the connection broke.
type ConnError struct {
	Err error // the error from the net package or io.EOF
}

func (e *ConnError) Error() string {
	return "connection: " + e.Err.Error()
}

// Unwrap returns the network error.
func (e *ConnError) Unwrap() error { return e.Err }

// ProtocolError means the server (or whatever answered) sent bytes that are
// not a valid owserver reply. The connection it came on is closed.
type ProtocolError struct {
	Kind   error // ErrMalformedHeader, ErrPayloadTooLarge, ErrListingTooLarge, ErrShortRead, ErrShortWrite or ErrUnexpectedReply
	Detail string
}

func (e *ProtocolError) Error() string {
	return "protocol error: " + e.Kind.Error() + ": " + e.Detail
}

// Unwrap returns the kind, so that errors.Is(err, ErrShortRead) works.
func (e *ProtocolError) Unwrap() error { return e.Kind }

// ServerError is owserver's answer that a request failed: a negative return
// code, which is a negated errno.
type ServerError struct {
	Op   string
	Path string
	Code int32  // the errno, i.e. the negated return code
	Text string // OWFS's own message for Code
}

func (e *ServerError) Error() string {
	if e.Code == 1 {
		// OWFS's text for 1 is "Startup - command line parameters invalid",
		// which has confused users of every client that printed it alone.
		return fmt.Sprintf("owclient: %s %s: no such device or property (owserver error 1: %s)", e.Op, e.Path, e.Text)
	}
	return fmt.Sprintf("owclient: %s %s: %s (owserver error %d)", e.Op, e.Path, e.Text, e.Code)
}

// Errno returns the system error number Code stands for. owserver answers
// -1 (EPERM in errno terms) whenever a path does not parse or names no
// device, so 1 maps to ENOENT.
func (e *ServerError) Errno() syscall.Errno {
	if e.Code == 1 {
		return syscall.ENOENT
	}
	return syscall.Errno(e.Code)
}

// Is matches e's Errno and whatever that Errno matches, such as
// fs.ErrNotExist for ENOENT.
func (e *ServerError) Is(target error) bool {
	errno := e.Errno()
	if t, ok := target.(syscall.Errno); ok {
		return t == errno
	}
	return errno.Is(target)
}

// PartialWriteError is owserver's answer that it took only the first
// Written of the Sent bytes of a write: a memory page ends before the data
// does (nothing at all past its end), or an alias is longer than owserver
// keeps. The bytes it took are written.
type PartialWriteError struct {
	Path          string
	Written, Sent int
}

func (e *PartialWriteError) Error() string {
	return fmt.Sprintf("owclient: write %s: owserver took %d of %d bytes", e.Path, e.Written, e.Sent)
}

// Unwrap makes errors.Is(err, io.ErrShortWrite) true.
func (e *PartialWriteError) Unwrap() error { return io.ErrShortWrite }

// IsTimeout reports whether err is or wraps a timeout.
func IsTimeout(err error) bool { return errors.Is(err, ErrTimeout) }

// IsNotExist reports whether err says the path does not exist on the server.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// retryable marks an error as safe to retry: the request was sent on a
// reused connection that failed before any reply byte arrived, so owserver
// never processed it.
type retryable struct{ error }

func (r retryable) Unwrap() error { return r.error }

// SafeToRetry reports whether the request that failed with err is known not
// to have reached owserver, so it may be sent again.
func SafeToRetry(err error) bool {
	var r retryable
	return errors.As(err, &r)
}
