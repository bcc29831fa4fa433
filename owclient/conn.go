package owclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"
)

// conn is one socket to owserver. It is not safe for concurrent use: the
// Client hands it to one request at a time.
type conn struct {
	nc net.Conn
	// br reads the replies: a frame's header and its payload, and often
	// several frames of a listing, arrive together, and one read(2)
	// takes them all instead of one per header and one per payload.
	br      *bufio.Reader
	rc      syscall.RawConn // the socket, for stale's peek
	lastUse time.Time       // when a request last set the deadline
	wbuf    []byte          // the request frame, reused
	cfg     *config
	used    bool // a request completed on it, so the server may have closed it while idle
	// persistent is the server's last decision; a conn without it is closed
	// after its reply.
	persistent bool
	frames     int // frames received for the current request, keepalives included
	hdr        [HeaderSize]byte
}

// request is one message to send; payload is already encoded.
type request struct {
	typ     MsgType
	flags   Flags
	payload []byte
	size    int32
	offset  int32
}

// reply is the final frame of an answer. For MSG_DIR, entries holds the
// data of every entry frame.
type reply struct {
	hdr     ReplyHeader
	data    []byte
	entries []string
}

// config is what a conn needs to know about its Client.
type config struct {
	addr         string
	maxPayload   int
	frameTimeout time.Duration
	dialTimeout  time.Duration
	log          *slog.Logger
}

func dial(ctx context.Context, cfg *config) (*conn, error) {
	d := net.Dialer{Timeout: cfg.dialTimeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", cfg.addr)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, timeoutOrCancel(ctx)
		}
		return nil, &ConnError{Err: err}
	}
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, readBufSize), cfg: cfg}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
		}
	}
	return c, nil
}

func (c *conn) close() { c.nc.Close() }

// readBufSize holds a value's reply, or a few dozen entries of a listing
// sent one per frame; larger payloads are read past it, straight into
// their own slice.
const readBufSize = 4096

// aLongTimeAgo is a deadline in the past, to wake a blocked read at once.
var aLongTimeAgo = time.Unix(1, 0)

// roundTrip sends req and reads frames until the final reply, skipping
// keepalive frames. Any error leaves the conn unusable; the caller closes
// it.
func (c *conn) roundTrip(ctx context.Context, req request) (reply, error) {
	// Cancellation without a deadline (an interrupted FUSE call, say) must
	// also wake a blocked read. If it raced with the reply, the socket's
	// deadline may be in the past already: it is not reused.
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, c.interrupt)
		defer func() {
			if !stop() {
				c.persistent = false
			}
		}()
	}

	reused := c.used
	c.used = true
	c.frames = 0
	if err := c.send(ctx, req); err != nil {
		if reused && !errors.Is(err, ErrTimeout) && !errors.Is(err, context.Canceled) {
			err = retryable{err}
		}
		return reply{}, err
	}
	var rep reply
	limit := replyLimit(req, c.cfg.maxPayload)
	listed := 0 // bytes of the MSG_DIR entries so far
	for {
		if req.typ == MsgDir {
			// A listing is bounded as a whole, as a DIRALL reply is by
			// its payload limit: a frame that does not fit in what is
			// left is refused before it is allocated.
			limit = c.cfg.maxPayload - listed
		}
		h, data, err := c.readFrame(ctx, limit)
		if err != nil {
			if c.frames == 0 && reused && isConnLost(err) {
				// A socket the server closed while idle: the request was
				// never processed.
				err = retryable{err}
			}
			return reply{}, explainLimit(err, req, len(rep.entries), c.cfg.maxPayload)
		}
		if req.typ != MsgDir || h.Ret < 0 || h.Payload == 0 {
			rep.hdr, rep.data = h, data
			break
		}
		if len(rep.entries) >= MaxDirEntries {
			return reply{}, &ProtocolError{Kind: ErrListingTooLarge, Detail: fmt.Sprintf("MSG_DIR listing of more than %d entries", MaxDirEntries)}
		}
		listed += int(h.Payload)
		rep.entries = append(rep.entries, string(data))
	}
	// Bytes after the final reply are none the next request asked for:
	// such a socket is not reused, as stale says of one found idle with
	// them.
	c.persistent = req.flags&FlagPersistence != 0 && rep.hdr.Flags&FlagPersistence != 0 && c.br.Buffered() == 0
	return rep, nil
}

// MaxDirEntries bounds the entries of one listing, however it comes: an
// entry costs a string header and an allocation of its own, so a flood of
// empty or one-byte entries would cost far more than the payload limit
// suggests. It allows listings of well over 100,000 entries (a
// 1,000-device bus has some 45,000 names in all, a device directory a
// few dozen).
const MaxDirEntries = 1 << 18

// replyLimit is the largest payload a frame of the reply to req may
// announce. owserver never sends more of a value than the READ asked for
// (it truncates), so a READ reply is held to the size asked, not to the
// limit for listings: 4 MiB values kept in the cache would otherwise take
// the memory of 64 KiB ones.
func replyLimit(req request, maxPayload int) int {
	if req.typ == MsgRead && req.size > 0 && int(req.size) < maxPayload {
		return int(req.size)
	}
	return maxPayload
}

// explainLimit says which limit a payload that was too large broke: the
// READ's size, or the listing's total. Other errors pass unchanged.
func explainLimit(err error, req request, entries, maxPayload int) error {
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Kind != ErrPayloadTooLarge {
		return err
	}
	switch {
	case req.typ == MsgRead && replyLimit(req, maxPayload) == int(req.size):
		return &ProtocolError{Kind: ErrPayloadTooLarge, Detail: fmt.Sprintf("READ reply larger than the %d bytes asked for: %s", req.size, pe.Detail)}
	case req.typ == MsgDir:
		return &ProtocolError{Kind: ErrListingTooLarge, Detail: fmt.Sprintf("MSG_DIR listing passes %d bytes after %d entries: %s", maxPayload, entries, pe.Detail)}
	}
	return err
}

// interrupt wakes a blocked read or write with a deadline in the past.
// The conn is unusable afterwards.
func (c *conn) interrupt() { c.nc.SetDeadline(aLongTimeAgo) }

func (c *conn) send(ctx context.Context, req request) error {
	c.wbuf = AppendRequest(c.wbuf[:0], RequestHeader{Type: req.typ, Flags: req.flags, Size: req.size, Offset: req.offset}, req.payload)
	frame := c.wbuf
	if c.cfg.log != nil {
		c.cfg.log.Debug("owserver send", "addr", c.cfg.addr, "header", ParseRequestHeader(frame).String(), "payload", fmt.Sprintf("%q", req.payload))
	}
	c.nc.SetDeadline(c.frameDeadline(ctx)) // for the first reply frame too
	if ctx.Err() != nil {
		// Cancelled before that deadline replaced the interrupt's.
		return c.timeoutError(ctx)
	}
	n, err := c.nc.Write(frame)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil || isTimeout(err) {
		return c.timeoutError(ctx)
	}
	if n > 0 {
		return &ProtocolError{Kind: ErrShortWrite, Detail: fmt.Sprintf("wrote %d of %d bytes: %v", n, len(frame), err)}
	}
	return &ConnError{Err: err}
}

// readFrame reads one frame that is not a keepalive, whose payload may be
// at most limit bytes. A keepalive restarts the inactivity timer.
func (c *conn) readFrame(ctx context.Context, limit int) (ReplyHeader, []byte, error) {
	for first := c.frames == 0; ; first = false {
		if !first {
			c.nc.SetReadDeadline(c.frameDeadline(ctx))
			// The context sets Err before it runs interrupt: a cancel
			// whose past deadline this one just replaced is seen here.
			if ctx.Err() != nil {
				return ReplyHeader{}, nil, c.timeoutError(ctx)
			}
		}
		h, data, err := readReply(c.br, c.hdr[:], limit)
		if err == nil || h != (ReplyHeader{}) {
			c.frames++
		}
		if err != nil {
			if ctx.Err() != nil || isTimeout(err) {
				return h, nil, c.timeoutError(ctx)
			}
			return h, nil, err
		}
		if h.IsKeepalive() {
			if c.cfg.log != nil {
				c.cfg.log.Debug("owserver keepalive skipped", "addr", c.cfg.addr)
			}
			continue
		}
		if c.cfg.log != nil {
			c.cfg.log.Debug("owserver reply", "addr", c.cfg.addr, "header", h.String(), "data", fmt.Sprintf("%q", data))
		}
		return h, data, nil
	}
}

// readReply reads one frame from r into hdr (24 bytes of scratch) and
// checks its header before allocating anything for the payload. It returns
// the data: the first Size bytes of the payload, or the whole payload when
// Size is 0 (PRESENCE replies carry the 8-byte ROM id that way).
func readReply(r io.Reader, hdr []byte, maxPayload int) (ReplyHeader, []byte, error) {
	n, err := io.ReadFull(r, hdr[:HeaderSize])
	if err != nil {
		if n == 0 && !errors.Is(err, io.ErrUnexpectedEOF) {
			return ReplyHeader{}, nil, &ConnError{Err: err}
		}
		if isTimeout(err) {
			return ReplyHeader{}, nil, err
		}
		return ReplyHeader{}, nil, &ProtocolError{Kind: ErrShortRead, Detail: fmt.Sprintf("got %d of %d header bytes", n, HeaderSize)}
	}
	h := ParseReplyHeader(hdr)
	switch {
	case h.Version != 0:
		return h, nil, &ProtocolError{Kind: ErrMalformedHeader, Detail: "version word " + fmt.Sprintf("%#x", uint32(h.Version)) + ", want 0"}
	case h.IsKeepalive():
		return h, nil, nil
	case h.Payload < 0:
		return h, nil, &ProtocolError{Kind: ErrMalformedHeader, Detail: fmt.Sprintf("negative payload length %d", h.Payload)}
	case int64(h.Payload) > int64(maxPayload):
		return h, nil, &ProtocolError{Kind: ErrPayloadTooLarge, Detail: fmt.Sprintf("server announced %d bytes, limit is %d", h.Payload, maxPayload)}
	case h.Size < 0 || (h.Payload > 0 && h.Size > h.Payload):
		return h, nil, &ProtocolError{Kind: ErrMalformedHeader, Detail: fmt.Sprintf("size %d does not fit payload %d", h.Size, h.Payload)}
	}
	if h.Payload == 0 {
		return h, nil, nil
	}
	payload := make([]byte, h.Payload)
	if n, err := io.ReadFull(r, payload); err != nil {
		if isTimeout(err) {
			return h, nil, err
		}
		return h, nil, &ProtocolError{Kind: ErrShortRead, Detail: fmt.Sprintf("got %d of %d payload bytes", n, h.Payload)}
	}
	if h.Size > 0 {
		payload = payload[:h.Size]
	}
	return h, payload, nil
}

// frameDeadline is when the next frame must have arrived: the inactivity
// timeout from now, or the context's deadline if that is sooner.
func (c *conn) frameDeadline(ctx context.Context) time.Time {
	c.lastUse = time.Now()
	d := c.lastUse.Add(c.cfg.frameTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(d) {
		return dl
	}
	return d
}

// timeoutError tells which limit fired: the context's or the inactivity
// timer.
func (c *conn) timeoutError(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ctx.Err() != nil || (ok && !time.Now().Before(dl)) {
		return timeoutOrCancel(ctx)
	}
	return fmt.Errorf("%w: no frame from owserver for %v", ErrTimeout, c.cfg.frameTimeout)
}

func timeoutOrCancel(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return errDeadlineExceeded
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// isConnLost reports an EOF or reset before any reply byte.
func isConnLost(err error) bool {
	var ce *ConnError
	return errors.As(err, &ce) && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE))
}

// stale reports whether an idle pooled conn can no longer carry a request:
// the server closed it (EOF) or sent bytes nobody asked for. It peeks
// without blocking, as OWFS's own client does before reusing a socket.
//
// A socket used within the last second is not checked: owserver's idle
// timeouts are whole seconds, and a request that finds the socket closed
// anyway is resent (roundTrip), so the syscall would buy nothing.
func (c *conn) stale() bool {
	if time.Since(c.lastUse) < time.Second {
		return false
	}
	if c.rc == nil {
		return false
	}
	var buf [1]byte
	stale := false
	err := c.rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// n == 0 with no error is EOF; n > 0 is unsolicited data.
		stale = rerr == nil || (rerr != syscall.EAGAIN && rerr != syscall.EWOULDBLOCK) || n > 0
		return true
	})
	return stale || err != nil
}
