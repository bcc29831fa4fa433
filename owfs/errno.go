package owfs

import (
	"context"
	"errors"
	"syscall"

	"github.com/owfuse/owfuse/owclient"
)

// errno turns an error from the cache into what the kernel is told, logs
// it once with the path, and counts it (see fail).
func (f *FS) errno(ctx context.Context, op, path string, err error) syscall.Errno {
	return f.fail(f.toErrno(ctx, op, path, err))
}

// toErrno is errno without the count, for a caller that may not tell the
// kernel (a refused start of a value that more bytes may complete), and
// counts with fail what it does tell. owserver's codes keep their
// meaning; anything that went wrong on the way (unreachable, timed out,
// nonsense) is EIO, never ENOENT, so that a dead server does not look
// like a missing sensor.
func (f *FS) toErrno(ctx context.Context, op, path string, err error) syscall.Errno {
	if err == nil {
		if f.down.Load() && f.down.CompareAndSwap(true, false) {
			f.log.Info("owserver answers again", "server", f.cache.Addr())
		}
		return 0
	}
	var se *owclient.ServerError
	var pe *owclient.PartialWriteError
	switch {
	case errors.As(err, &pe):
		// A value longer than owserver keeps, or data past a page's end.
		f.log.Debug("owserver took part of a write", "op", op, "path", path, "err", err)
		return syscall.EFBIG
	case errors.As(err, &se):
		e := kernelSafe(se.Errno())
		if !se.KnownCode() {
			f.log.Warn("owserver sent an error code OWFS does not define; the call gets EIO", "op", op, "path", path, "code", se.Code)
		} else {
			f.log.Debug("owserver refused", "op", op, "path", path, "errno", e, "err", err)
		}
		return e
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return syscall.EINTR
	case errors.Is(err, owclient.ErrInvalidPath):
		return syscall.EINVAL
	case errors.Is(err, owclient.ErrRequestTooLarge):
		return syscall.EFBIG
	}
	if f.down.CompareAndSwap(false, true) {
		f.log.Warn("lost connection to owserver; calls fail with EIO until it answers", "server", f.cache.Addr(), "op", op, "path", path, "err", err)
	} else {
		f.log.Debug("owserver request failed", "op", op, "path", path, "err", err)
	}
	return syscall.EIO
}

// kernelSafe keeps an errno the kernel accepts in a reply and gives no
// protocol meaning: the kernel refuses 512 and over (the caller then
// sleeps in the kernel, unkillable), and ENOSYS switches the operation off
// for the whole mount, for good (an open, a flush). Those become EIO.
func kernelSafe(e syscall.Errno) syscall.Errno {
	if e <= 0 || e >= 512 || e == syscall.ENOSYS {
		return syscall.EIO
	}
	return e
}
