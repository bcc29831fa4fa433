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
var ErrClosed = errors.New("client closed")

// ErrTimeout is matched (with errors.Is) by every timeout: the context's
// deadline passing, or no frame arriving within [Options.FrameTimeout].
var ErrTimeout = errors.New("timeout")

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
	errDeadlineExceeded = fmt.Errorf("%w: operation deadline exceeded: %w", ErrTimeout, context.DeadlineExceeded)
)

// ErrInvalidPath is wrapped by the error for a path that cannot be sent:
// empty, containing NUL, or not UTF-8.
var ErrInvalidPath = errors.New("invalid path")

// ErrRequestTooLarge is wrapped by the error for a request whose path and
// value together exceed MaxServerPayload; it is not sent.
var ErrRequestTooLarge = errors.New("request larger than owserver takes")

// OpError is the error of a call that did not get a reply from owserver:
// the network failed, the reply was malformed, or time ran out.
type OpError struct {
	Op   string // "read", "write", "dir", "presence", "ping" or "send"
	Path string // the owserver path, empty for ping
	Addr string // the server address
	Err  error  // a *ConnError, *ProtocolError, a timeout or context.Canceled

	unsent bool // the request never reached owserver: see SafeToRetry
}

// Error names the package, the operation, the path and the server, then
// the cause.
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

// Error returns "connection: " and the network error.
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

// Error returns the kind and the detail.
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

// Error names the operation and the path, then OWFS's text for Code (a
// plainer one for code 1) and the code.
func (e *ServerError) Error() string {
	if e.Code == 1 {
		// OWFS's text for 1 is "Startup - command line parameters invalid",
		// which has confused users of every client that printed it; Text
		// still holds it.
		return fmt.Sprintf("owclient: %s %s: no such device or property (owserver error 1)", e.Op, e.Path)
	}
	return fmt.Sprintf("owclient: %s %s: %s (owserver error %d)", e.Op, e.Path, e.Text, e.Code)
}

// Errno returns the system error number Code stands for. owserver answers
// -1 (EPERM in errno terms) whenever a path does not parse or names no
// device, so 1 maps to ENOENT. Codes OWFS calls "legacy" in its table
// (/settings/return_codes) are errno values and map to themselves; its own
// codes collide with unrelated errnos (29 would be ESPIPE, 38 ENOSYS) and
// map to the errno nearest their meaning; a code OWFS does not define, or
// one out of range, is EIO.
func (e *ServerError) Errno() syscall.Errno {
	if errno, ok := owfsCodes[e.Code]; ok {
		return errno
	}
	if legacyCodes[e.Code] {
		return syscall.Errno(e.Code)
	}
	return syscall.EIO
}

// KnownCode reports whether Code is one OWFS defines; Errno is EIO for the
// others.
func (e *ServerError) KnownCode() bool {
	_, own := owfsCodes[e.Code]
	return own || legacyCodes[e.Code]
}

// legacyCodes are the return codes OWFS's table marks "legacy": errno
// values, with the errno's meaning.
var legacyCodes = map[int32]bool{
	2: true, 4: true, 5: true, 9: true, 11: true, 12: true, 13: true, 14: true, 16: true,
	19: true, 20: true, 21: true, 22: true, 30: true, 34: true, 36: true, 40: true, 42: true,
	74: true, 90: true, 95: true, 98: true, 99: true, 103: true, 105: true,
}

// owfsCodes are OWFS's own return codes (ow_return_code.c, as owserver
// 3.2p4 lists them under /settings/return_codes), by the errno nearest
// their text.
var owfsCodes = map[int32]syscall.Errno{
	1: syscall.ENOENT,                                                               // "Startup - command line parameters invalid", sent for a bad path
	3: syscall.EIO, 6: syscall.EIO, 7: syscall.EIO, 8: syscall.EIO, 10: syscall.EIO, // startup
	15: syscall.EIO, 17: syscall.EIO, 18: syscall.EIO, 23: syscall.EIO, 24: syscall.EIO, 25: syscall.EIO, // program state
	26: syscall.ENAMETOOLONG, // input path too long
	27: syscall.ENOENT,       // bad path syntax
	28: syscall.ENOENT,       // device name bad CRC8
	29: syscall.ENOENT,       // unrecognized device name or alias
	31: syscall.ENAMETOOLONG, // alias name too long
	32: syscall.ENOENT,       // unrecognized device property
	33: syscall.EINVAL,       // property not an array
	35: syscall.EINVAL,       // property should be an array
	37: syscall.EINVAL,       // device not a bit field
	38: syscall.ERANGE,       // array index out of range
	39: syscall.EINVAL,       // property not a subpath
	41: syscall.ENOENT,       // device not found
	43: syscall.EIO,          // other device error
	44: syscall.EIO, 45: syscall.EIO, 46: syscall.EIO, 47: syscall.EIO, 48: syscall.EIO, 49: syscall.EIO, 50: syscall.EIO,
	51: syscall.EIO, 52: syscall.EIO, 53: syscall.EIO, 54: syscall.EIO, 55: syscall.EIO, 56: syscall.EIO, // bus
	57: syscall.EFBIG,                                                                   // read: data too large
	58: syscall.EIO,                                                                     // read: communication error
	59: syscall.EINVAL,                                                                  // read: not a property
	60: syscall.EACCES,                                                                  // not a readable property
	61: syscall.EFBIG,                                                                   // write: data too large
	62: syscall.EINVAL,                                                                  // write: data too small
	63: syscall.EINVAL,                                                                  // write: data wrong format
	64: syscall.EINVAL,                                                                  // write: not a property
	65: syscall.EACCES,                                                                  // not a writable property
	66: syscall.EROFS,                                                                   // read-only mode
	67: syscall.EIO,                                                                     // write: communication error
	68: syscall.ENAMETOOLONG,                                                            // directory: output path too long
	69: syscall.ENOTDIR,                                                                 // directory: not a directory
	70: syscall.ENOENT,                                                                  // presence: not a device
	71: syscall.EIO, 72: syscall.EIO, 73: syscall.EIO, 75: syscall.EIO, 76: syscall.EIO, // protocol
	77: syscall.ENOENT,               // extra text in path
	78: syscall.EIO, 79: syscall.EIO, // internal
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

// Error says how many of the bytes sent owserver took.
func (e *PartialWriteError) Error() string {
	return fmt.Sprintf("owclient: write %s: owserver took %d of %d bytes", e.Path, e.Written, e.Sent)
}

// Unwrap makes errors.Is(err, io.ErrShortWrite) true.
func (e *PartialWriteError) Unwrap() error { return io.ErrShortWrite }

// IsTimeout reports whether err is or wraps a timeout.
func IsTimeout(err error) bool { return errors.Is(err, ErrTimeout) }

// IsNotExist reports whether err says the path does not exist on the server.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// retryable marks an error of a request on a reused pooled connection
// that failed before any reply byte arrived: owserver had closed the
// connection while it was idle and never processed the request, so the
// Client sends it once more on a new connection (as owlib does). Callers
// never see it.
type retryable struct{ error }

func (r retryable) Unwrap() error { return r.error }

// SafeToRetry reports whether the request that failed with err provably
// never reached owserver, so that sending it again cannot make owserver
// act on it twice: the Client was closed, no connection came free or
// could be dialled before the context ended, or the request was refused
// before it was sent (an invalid path, a request too large, an offset out
// of range). It is false for every other error, a *ServerError included,
// even when owserver may well not have processed the request. Whether a
// resend can succeed is another matter: not on a closed Client, nor with
// the same invalid request.
//
// The one failure after sending that is known to be harmless, a pooled
// connection owserver closed while it was idle, the Client resends by
// itself.
func SafeToRetry(err error) bool {
	var oe *OpError
	return errors.As(err, &oe) && oe.unsent
}
