package owclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// DefaultPort is owserver's registered TCP port.
const DefaultPort = "4304"

// Defaults for the zero values of Options.
const (
	DefaultPoolSize     = 8
	DefaultDialTimeout  = 5 * time.Second
	DefaultFrameTimeout = 5 * time.Second
	DefaultMaxPayload   = 4 << 20
	// DefaultReadSize is the READ size Read asks for, as owread does.
	DefaultReadSize = 65536
)

// Options configure a Client. The zero value is usable: persistent
// connections, no flags beyond persistence, the defaults above.
type Options struct {
	// Flags are ORed into every request (temperature scale, device format,
	// FlagUncached, …). FlagPersistence is managed by the Client.
	Flags Flags
	// DisablePersistence makes every request use a new connection.
	DisablePersistence bool
	// PoolSize bounds the connections open at once, by the Client and its
	// clones together; further requests wait for one to come free.
	// owserver grants 20 persistent sockets in all by default.
	PoolSize int
	// DialTimeout bounds connecting, within the context's deadline.
	DialTimeout time.Duration
	// FrameTimeout is how long the server may stay silent. owserver sends a
	// keepalive every second while it works, so silence means it is hung.
	FrameTimeout time.Duration
	// MaxPayload is the largest reply payload accepted; a larger claim is a
	// ProtocolError before anything is allocated. It must cover the largest
	// directory listing.
	MaxPayload int
	// Logger, if set, receives a Debug-level trace of every frame.
	Logger *slog.Logger
	// OnMessage, if set, is called after every request with its type, its
	// outcome (see Outcome) and how long it took, for metrics.
	OnMessage func(t MsgType, outcome string, d time.Duration)
}

// Outcomes reported to Options.OnMessage.
const (
	OutcomeOK          = "ok"           // a reply with a return code of 0 or more
	OutcomeServerError = "server_error" // a negative return code
	OutcomeConnError   = "conn_error"   // unreachable, or the connection broke
	OutcomeTimeout     = "timeout"
	OutcomeProtocol    = "protocol_error" // a malformed reply
	OutcomeCanceled    = "canceled"
)

// Outcome classifies the result of a request for Options.OnMessage.
func Outcome(ret int32, err error) string {
	var ce *ConnError
	var pe *ProtocolError
	switch {
	case err == nil && ret >= 0:
		return OutcomeOK
	case err == nil:
		return OutcomeServerError
	case IsTimeout(err):
		return OutcomeTimeout
	case errors.As(err, &pe):
		return OutcomeProtocol
	case errors.As(err, &ce):
		return OutcomeConnError
	case errors.Is(err, context.Canceled):
		return OutcomeCanceled
	}
	return OutcomeConnError
}

// Client is an owserver client. It is safe for concurrent use by multiple
// goroutines, and holds a pool of connections: create one per server and
// reuse it. [Client.WithFlags] and [Client.WithPersistence] return clones
// that share its pool, as net/http's Clients share one Transport. Close
// the Client that New returned when done: that closes the pool, for the
// clones too.
type Client struct {
	opts   Options // as given to New, defaults filled in; clones copy it
	flags  Flags   // sent with every request, persistence included
	cfg    *config // the pool's
	pool   *pool   // shared with clones
	server *serverState
	owner  bool // made by New: Close closes the pool
	closed atomic.Bool
}

// serverState is what a Client learns about its server; clones share it.
type serverState struct {
	dirMode  atomic.Int32 // 0: DIRALLSLASH works, 1: use DIRALL, 2: use DIR
	errTexts errTexts
}

// New returns a Client for the owserver at addr ("host:port", "host" for
// port 4304, or just a port on localhost). It does not connect; use Ping
// to check that the server answers.
func New(addr string, opts Options) (*Client, error) {
	hostport, err := normalizeAddr(addr)
	if err != nil {
		return nil, err
	}
	if opts.PoolSize < 0 || opts.DialTimeout < 0 || opts.FrameTimeout < 0 || opts.MaxPayload < 0 {
		return nil, errors.New("owclient: negative pool size, timeout or payload limit")
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = DefaultPoolSize
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.FrameTimeout == 0 {
		opts.FrameTimeout = DefaultFrameTimeout
	}
	if opts.MaxPayload == 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	p := newPool(config{addr: hostport, maxPayload: opts.MaxPayload, frameTimeout: opts.FrameTimeout,
		dialTimeout: opts.DialTimeout, log: opts.Logger}, opts.PoolSize)
	st := &serverState{errTexts: errTexts{retry: errTextRetry}}
	return &Client{opts: opts, flags: requestFlags(opts), cfg: &p.cfg, pool: p, server: st, owner: true}, nil
}

// requestFlags are the flags a Client with opts sends.
func requestFlags(opts Options) Flags {
	if opts.DisablePersistence {
		return opts.Flags &^ FlagPersistence
	}
	return opts.Flags | FlagPersistence
}

// clone returns a Client like c with opts, on c's pool.
func (c *Client) clone(opts Options) *Client {
	return &Client{opts: opts, flags: requestFlags(opts), cfg: c.cfg, pool: c.pool, server: c.server}
}

func normalizeAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("owclient: empty server address")
	}
	if _, err := strconv.ParseUint(addr, 10, 16); err == nil {
		return net.JoinHostPort("localhost", addr), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// No port: a host name or a bare IPv6 address.
		return net.JoinHostPort(strings.Trim(addr, "[]"), DefaultPort), nil
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("owclient: bad port in server address %q", addr)
	}
	if host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port), nil
}

// PoolStats returns the connections of c's pool (shared with its clones)
// carrying a request now and those idle.
func (c *Client) PoolStats() (busy, idle int) { return c.pool.stats() }

// Addr returns the server address, host:port.
func (c *Client) Addr() string { return c.cfg.addr }

// Flags returns the flags sent with every request.
func (c *Client) Flags() Flags { return c.flags }

// WithFlags returns a clone of c that sends flags instead of c's
// (pyownet's clone). Flags travel with each request, so the clone shares
// c's connection pool and its PoolSize, and what c learnt about the
// server. Closing the clone ends only the clone; closing the Client that
// New returned closes the pool for every clone.
func (c *Client) WithFlags(flags Flags) *Client {
	o := c.opts
	o.Flags = flags
	return c.clone(o)
}

// WithPersistence returns a clone of c that does or does not ask owserver
// to keep connections open (pyownet's clone), on c's pool as for
// WithFlags. A non-persistent Client dials a connection for every request
// and closes it after the reply: it neither takes an idle connection from
// the pool nor leaves one there, but its connections count against
// PoolSize while they are open.
func (c *Client) WithPersistence(persistent bool) *Client {
	o := c.opts
	o.DisablePersistence = !persistent
	return c.clone(o)
}

// Close makes further calls on c fail with ErrClosed. Called on the
// Client that New returned, it also closes the pool it shares with its
// clones: idle connections are closed at once, calls on every clone fail
// with ErrClosed, and requests under way finish and then close their
// connections. Called on a clone, it leaves the pool open. Close is
// idempotent and returns nil.
func (c *Client) Close() error {
	c.closed.Store(true)
	if c.owner {
		c.pool.close()
	}
	return nil
}

// roundTrip sends one request and returns the final reply, whatever its
// return code. A request that failed on a reused connection before any
// reply byte arrived is sent once more on a new connection.
func (c *Client) roundTrip(ctx context.Context, op, path string, req request) (reply, error) {
	if c.opts.OnMessage != nil {
		start := time.Now()
		rep, err := c.exchange(ctx, op, path, req)
		c.opts.OnMessage(req.typ, Outcome(rep.hdr.Ret, err), time.Since(start))
		return rep, err
	}
	return c.exchange(ctx, op, path, req)
}

func (c *Client) exchange(ctx context.Context, op, path string, req request) (reply, error) {
	if c.closed.Load() {
		return reply{}, c.unsentError(op, path, ErrClosed)
	}
	cn, err := c.pool.acquire(ctx, req.flags&FlagPersistence != 0)
	if err != nil {
		return reply{}, c.unsentError(op, path, err)
	}
	rep, err := cn.roundTrip(ctx, req)
	var stale retryable
	if errors.As(err, &stale) {
		if c.cfg.log != nil {
			c.cfg.log.Debug("owserver closed an idle connection; resending", "addr", c.cfg.addr, "err", stale.error)
		}
		cn.close()
		if cn, err = dial(ctx, c.cfg); err != nil {
			c.pool.release(nil, false)
			return reply{}, c.unsentError(op, path, err)
		}
		// A new connection: its errors are never retryable.
		rep, err = cn.roundTrip(ctx, req)
	}
	c.pool.release(cn, err == nil)
	if err != nil {
		return reply{}, c.opError(op, path, err)
	}
	return rep, nil
}

// opError is the error of a request that failed after it was sent, or
// while it was: owserver may have acted on it.
func (c *Client) opError(op, path string, err error) *OpError {
	return &OpError{Op: op, Path: path, Addr: c.cfg.addr, Err: err}
}

// unsentError is the error of a request that never reached owserver.
func (c *Client) unsentError(op, path string, err error) *OpError {
	return &OpError{Op: op, Path: path, Addr: c.cfg.addr, Err: err, unsent: true}
}

// do sends a request naming path and turns a negative return code into a
// *ServerError.
func (c *Client) do(ctx context.Context, op string, typ MsgType, flags Flags, path string, data []byte, size, offset int32) (reply, error) {
	rep, err := c.doRaw(ctx, op, typ, flags, path, data, size, offset)
	if err != nil {
		return rep, err
	}
	if rep.hdr.Ret < 0 {
		return rep, c.serverError(ctx, op, path, -rep.hdr.Ret)
	}
	return rep, nil
}

// doRaw sends a request naming path and returns the reply whatever its
// return code.
func (c *Client) doRaw(ctx context.Context, op string, typ MsgType, flags Flags, path string, data []byte, size, offset int32) (reply, error) {
	if err := checkPath(path); err != nil {
		return reply{}, c.unsentError(op, path, err)
	}
	if n := len(path) + 1 + len(data); n > MaxServerPayload {
		// owserver resets the connection for these: refuse them here, with
		// a reason.
		return reply{}, c.unsentError(op, path,
			fmt.Errorf("%w: path and value are %d bytes, owserver takes %d", ErrRequestTooLarge, n, MaxServerPayload))
	}
	return c.roundTrip(ctx, op, path, request{typ: typ, flags: flags, payload: pathPayload(path, data), size: size, offset: offset})
}

func checkPath(path string) error {
	switch {
	case path == "":
		return fmt.Errorf("%w: empty", ErrInvalidPath)
	case strings.IndexByte(path, 0) >= 0:
		return fmt.Errorf("%w: %q contains NUL", ErrInvalidPath, path)
	case !utf8.ValidString(path):
		return fmt.Errorf("%w: %q is not UTF-8", ErrInvalidPath, path)
	}
	return nil
}

// Ping sends a NOP and checks that owserver answers.
func (c *Client) Ping(ctx context.Context) error {
	rep, err := c.roundTrip(ctx, "ping", "", request{typ: MsgNop, flags: c.flags})
	if err != nil {
		return err
	}
	if rep.hdr.Ret < 0 {
		return c.serverError(ctx, "ping", "", -rep.hdr.Ret)
	}
	return nil
}

// Present reports whether path exists on the server (a device, property or
// directory). A missing path is false with a nil error; other failures are
// errors.
func (c *Client) Present(ctx context.Context, path string) (bool, error) {
	_, err := c.do(ctx, "presence", MsgPresence, c.flags, path, nil, 0, 0)
	if err == nil {
		return true, nil
	}
	if IsNotExist(err) {
		return false, nil
	}
	return false, err
}

// Read returns the value at path, up to DefaultReadSize bytes. Numbers come
// space-padded unless the client's flags include FlagTrim.
func (c *Client) Read(ctx context.Context, path string) ([]byte, error) {
	return c.ReadAt(ctx, path, DefaultReadSize, 0)
}

// ReadAt returns at most size bytes of the value at path, starting at
// offset. owserver truncates a value longer than size without an error, and
// returns nothing for an offset past the end. size must be 1 to
// MaxServerPayload.
func (c *Client) ReadAt(ctx context.Context, path string, size, offset int) ([]byte, error) {
	if size < 1 || size > MaxServerPayload || offset < 0 || offset > 1<<31-1 {
		return nil, c.unsentError("read", path,
			fmt.Errorf("size %d or offset %d out of range (size 1 to %d)", size, offset, MaxServerPayload))
	}
	rep, err := c.do(ctx, "read", MsgRead, c.flags, path, nil, int32(size), int32(offset))
	if err != nil {
		return nil, err
	}
	return rep.data, nil
}

// Write sets the value at path to data, sent as is (no NUL, no newline).
func (c *Client) Write(ctx context.Context, path string, data []byte) error {
	return c.WriteAt(ctx, path, data, 0)
}

// WriteAt writes data at a byte offset into the value at path, as for
// memory pages. If owserver takes fewer bytes than data holds (a page ends
// first, or an alias is cut to its longest), the error is a
// *PartialWriteError saying how many it took.
func (c *Client) WriteAt(ctx context.Context, path string, data []byte, offset int) error {
	if offset < 0 || offset > 1<<31-1 {
		return c.unsentError("write", path, fmt.Errorf("offset %d out of range", offset))
	}
	rep, err := c.do(ctx, "write", MsgWrite, c.flags, path, data, int32(len(data)), int32(offset))
	if err == nil && rep.hdr.Size >= 0 && int(rep.hdr.Size) < len(data) {
		// owserver says how many bytes it took in the reply's size.
		return &PartialWriteError{Path: path, Written: int(rep.hdr.Size), Sent: len(data)}
	}
	return err
}

// Send is the raw escape hatch (pyownet's sendmess): it sends one message
// with exactly these flags (plus FlagPersistence if the client is
// persistent) and returns the server's return code and data. A negative
// return code is not an error here.
func (c *Client) Send(ctx context.Context, typ MsgType, payload []byte, flags Flags, size, offset int32) (int32, []byte, error) {
	rep, err := c.roundTrip(ctx, "send", "", request{typ: typ, flags: flags | c.flags&FlagPersistence, payload: payload, size: size, offset: offset})
	if err != nil {
		return 0, nil, err
	}
	if typ == MsgDir && rep.hdr.Ret >= 0 {
		return rep.hdr.Ret, []byte(strings.Join(rep.entries, ",")), nil
	}
	return rep.hdr.Ret, rep.data, nil
}
