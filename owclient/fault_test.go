package owclient_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

const tempPath = "/10.67C6697351FF/temperature"

// newClient returns a client for addr that the test closes.
func newClient(t *testing.T, addr string, opts owclient.Options) *owclient.Client {
	t.Helper()
	c, err := owclient.New(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// within runs f and fails the test if it takes longer than limit: the
// guard that nothing hangs.
func within(t *testing.T, limit time.Duration, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("call still running after %v", limit)
		return 0
	}
}

func value(s string) func(owtest.Request) (int32, []byte) {
	return func(owtest.Request) (int32, []byte) { return int32(len(s)), []byte(s) }
}

func TestKeepaliveStormIsSkipped(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		for i := 0; i < 5000; i++ {
			c.Keepalive()
		}
		c.Reply(req, 12, []byte("     21.5000"))
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	var got []byte
	var err error
	within(t, 5*time.Second, func() { got, err = c.Read(context.Background(), tempPath) })
	if err != nil || string(got) != "     21.5000" {
		t.Fatalf("got %q, %v; want the value after the keepalives", got, err)
	}
}

// A server that keeps sending keepalives but never answers must not keep
// the call alive past its context's deadline (pyownet checks its timeout
// only when a keepalive arrives).
func TestDeadlineFiresDuringKeepalives(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		if _, err := c.ReadRequest(); err != nil {
			return
		}
		for {
			if c.Keepalive() != nil {
				return
			}
			time.Sleep(70 * time.Millisecond) // the server's pace, not synchronisation
		}
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var err error
	took := within(t, 3*time.Second, func() { _, err = c.Read(ctx, tempPath) })
	if !owclient.IsTimeout(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want an operation timeout", err)
	}
	if took < 250*time.Millisecond || took > time.Second {
		t.Errorf("timed out after %v, want about 300ms", took)
	}
}

// A cancel that lands between two frames, while the next frame's deadline
// is being set, must still end the call: setting that deadline must not
// undo the interrupt's. The server keeps sending keepalives, so without
// the check the call would wait until the frame timeout.
func TestCancelBetweenKeepalives(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		if _, err := c.ReadRequest(); err != nil {
			return
		}
		for c.Keepalive() == nil {
		}
	})
	c := newClient(t, srv.Addr, owclient.Options{FrameTimeout: time.Minute})
	for i := range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Duration(i%10)*time.Millisecond, cancel)
		var err error
		within(t, 5*time.Second, func() { _, err = c.Read(ctx, tempPath) })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: got %v, want context.Canceled", i, err)
		}
	}
}

func TestSilentServer(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		c.ReadRequest()
		io.Copy(io.Discard, c) // read on, never answer
	})
	t.Run("context deadline", func(t *testing.T) {
		c := newClient(t, srv.Addr, owclient.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var err error
		within(t, 2*time.Second, func() { _, err = c.Read(ctx, tempPath) })
		var oe *owclient.OpError
		if !errors.As(err, &oe) || !oe.Timeout() || oe.Path != tempPath || oe.Op != "read" {
			t.Fatalf("got %#v, want an *OpError timeout for read %s", err, tempPath)
		}
	})
	t.Run("frame inactivity", func(t *testing.T) {
		c := newClient(t, srv.Addr, owclient.Options{FrameTimeout: 150 * time.Millisecond})
		var err error
		within(t, 2*time.Second, func() { _, err = c.Read(context.Background(), tempPath) })
		if !owclient.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want an inactivity timeout", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		c := newClient(t, srv.Addr, owclient.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		var err error
		within(t, 2*time.Second, func() { _, err = c.Read(ctx, tempPath) })
		if !errors.Is(err, context.Canceled) || owclient.IsTimeout(err) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}

func TestMalformedReplies(t *testing.T) {
	cases := []struct {
		name  string
		write func(c *owtest.FakeConn)
		kind  error
	}{
		{"garbage", func(c *owtest.FakeConn) { io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") }, owclient.ErrMalformedHeader},
		{"nonzero version", func(c *owtest.FakeConn) { c.WriteFrame(owclient.ReplyHeader{Version: 1 << 17, Payload: 0}, nil) }, owclient.ErrMalformedHeader},
		{"negative payload", func(c *owtest.FakeConn) { c.WriteFrame(owclient.ReplyHeader{Payload: -5}, nil) }, owclient.ErrMalformedHeader},
		{"size beyond payload", func(c *owtest.FakeConn) {
			c.WriteFrame(owclient.ReplyHeader{Payload: 4, Ret: 4, Size: 9}, []byte("abcd"))
		}, owclient.ErrMalformedHeader},
		{"2 GiB payload claim", func(c *owtest.FakeConn) {
			c.WriteFrame(owclient.ReplyHeader{Payload: 1<<31 - 1, Ret: 12, Size: 12}, []byte("     21.5"))
		}, owclient.ErrPayloadTooLarge},
		{"short header", func(c *owtest.FakeConn) { c.Write([]byte{0, 0, 0, 0, 0, 0, 0, 12, 0}) }, owclient.ErrShortRead},
		{"short payload", func(c *owtest.FakeConn) {
			c.WriteFrame(owclient.ReplyHeader{Payload: 12, Ret: 12, Size: 12}, []byte("   21"))
		}, owclient.ErrShortRead},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
				if _, err := c.ReadRequest(); err == nil {
					tc.write(c)
				}
			})
			c := newClient(t, srv.Addr, owclient.Options{})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var err error
			within(t, 3*time.Second, func() { _, err = c.Read(context.Background(), tempPath) })
			runtime.ReadMemStats(&after)
			var pe *owclient.ProtocolError
			if !errors.As(err, &pe) || !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want a *ProtocolError of kind %v", err, tc.kind)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Errorf("allocated %d bytes for a bad frame", grew)
			}
		})
	}
}

// persistentEcho answers every request with its own path and keeps the
// connection as long as the client asks.
func persistentEcho(c *owtest.FakeConn) {
	c.Answer(func(r owtest.Request) (int32, []byte) { return int32(len(r.Path())), []byte(r.Path()) })
}

func TestPersistentConnectionIsReused(t *testing.T) {
	srv := owtest.NewFakeServer(t, persistentEcho)
	c := newClient(t, srv.Addr, owclient.Options{})
	for i := 0; i < 5; i++ {
		if _, err := c.Read(context.Background(), tempPath); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Accepted.Load(); n != 1 {
		t.Fatalf("%d connections for 5 sequential reads, want 1", n)
	}
}

func TestPersistenceDeniedFallsBack(t *testing.T) {
	var asked atomic.Int64
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		if req.Flags&owclient.FlagPersistence != 0 {
			asked.Add(1)
		}
		req.Flags &^= owclient.FlagPersistence // deny, answer, close
		c.Reply(req, 5, []byte("hello"))
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	for i := 0; i < 3; i++ {
		if got, err := c.Read(context.Background(), tempPath); err != nil || string(got) != "hello" {
			t.Fatalf("read %d: got %q, %v", i, got, err)
		}
	}
	if n := srv.Accepted.Load(); n != 3 || asked.Load() != 3 {
		t.Fatalf("%d connections, %d asked for persistence; want 3 and 3", n, asked.Load())
	}
}

// The server closes a granted socket while it sits idle in the pool; the
// next request must not see an error.
func TestIdleClosedSocketIsReplaced(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.Reply(req, 2, []byte("ok")) // grants persistence, then closes
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	for i := 0; i < 3; i++ {
		if _, err := c.Read(context.Background(), tempPath); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if n := srv.Accepted.Load(); n != 3 {
		t.Fatalf("%d connections, want 3", n)
	}
}

// A server that sends a frame nobody asked for right behind a reply (in
// the same segment, so that it is read along with the reply) does not
// get the socket back: the next request, at once, must not take that
// frame for its own answer.
func TestBytesAfterReplyAreNotTakenForTheNext(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			h := owclient.ReplyHeader{Payload: 2, Ret: 2, Flags: req.Flags, Size: 2}
			b := append(owclient.AppendReplyHeader(nil, h), "ok"...)
			b = append(owclient.AppendReplyHeader(b, h), "no"...)
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	for i := 0; i < 3; i++ {
		if got, err := c.Read(context.Background(), tempPath); err != nil || string(got) != "ok" {
			t.Fatalf("read %d: got %q, %v; want \"ok\"", i, got, err)
		}
	}
	if n := srv.Accepted.Load(); n != 3 {
		t.Fatalf("%d connections for 3 reads, want 3", n)
	}
}

// The race the staleness check cannot see: the server closes the socket
// after the request was written. Nothing was processed, so the client
// sends it once more on a fresh connection.
func TestClosedBeforeReplyIsRetriedOnce(t *testing.T) {
	var conns atomic.Int64
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		n := conns.Add(1)
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.Reply(req, 2, []byte("ok"))
		if n == 1 {
			c.ReadRequest() // swallow the second request, close without a reply
			return
		}
		c.Answer(value("ok"))
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	for i := 0; i < 3; i++ {
		if _, err := c.Read(context.Background(), tempPath); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if n := srv.Accepted.Load(); n != 2 {
		t.Fatalf("%d connections, want 2 (one resend)", n)
	}
}

// Once a keepalive arrived the server was working on the request: a
// broken connection then is an error, never a resend.
func TestNoRetryAfterReplyBytes(t *testing.T) {
	var conns atomic.Int64
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		n := conns.Add(1)
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.Reply(req, 2, []byte("ok"))
		if n == 1 {
			c.ReadRequest()
			c.Keepalive()
			return
		}
		c.Answer(value("ok"))
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	if _, err := c.Read(context.Background(), tempPath); err != nil {
		t.Fatal(err)
	}
	err := c.Write(context.Background(), "/settings/timeout/volatile", []byte("20"))
	var ce *owclient.ConnError
	if !errors.As(err, &ce) || !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want a connection error (EOF)", err)
	}
	if n := srv.Accepted.Load(); n != 1 {
		t.Fatalf("%d connections: the write was resent", n)
	}
}

func TestDirFallsBackAndRemembers(t *testing.T) {
	var types []owclient.MsgType
	var mu = make(chan struct{}, 1)
	list := []string{"/10.67C6697351FF", "/28.4AEC29CDBAAB"}
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			mu <- struct{}{}
			types = append(types, req.Type)
			<-mu
			if req.Type != owclient.MsgDir {
				if keep, _ := c.Reply(req, -42, nil); !keep {
					return
				}
				continue
			}
			// MSG_DIR: a frame per entry (keepalives between), then a terminator.
			for _, e := range list {
				c.Keepalive()
				c.WriteFrame(owclient.ReplyHeader{Payload: int32(len(e) + 1), Size: int32(len(e)), Flags: req.Flags}, append([]byte(e), 0))
			}
			c.WriteFrame(owclient.ReplyHeader{Flags: req.Flags, Offset: 0xc006}, nil)
			if req.Flags&owclient.FlagPersistence == 0 {
				return
			}
		}
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	for i := 0; i < 2; i++ {
		got, err := c.Dir(context.Background(), "/")
		if err != nil || strings.Join(got, ",") != strings.Join(list, ",") {
			t.Fatalf("Dir: got %q, %v; want %q", got, err, list)
		}
	}
	want := []owclient.MsgType{owclient.MsgDirAllSlash, owclient.MsgDirAll, owclient.MsgDir, owclient.MsgDir}
	mu <- struct{}{}
	defer func() { <-mu }()
	if len(types) != len(want) {
		t.Fatalf("request types %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("request types %v, want %v", types, want)
		}
	}
}

// errorServer answers the error-text table and fails every other read
// with the code in its path ("/err/95"). It calls table, if set, before
// it answers the table; a false from it fails that read with -5.
func errorServer(table func() bool) func(*owtest.FakeConn) {
	texts := make([]string, 100)
	for i := range texts {
		texts[i] = "text " + strings.Repeat("x", i%3)
	}
	texts[1], texts[2], texts[95] = "Startup - command line parameters invalid", "legacy - No such entity", "legacy - Not supported"
	all := strings.Join(texts, ",")
	return func(c *owtest.FakeConn) {
		c.Answer(func(r owtest.Request) (int32, []byte) {
			if r.Path() == "/settings/return_codes/text.ALL" {
				if table != nil && !table() {
					return -5, nil
				}
				return int32(len(all)), []byte(all)
			}
			var code int32
			for _, ch := range strings.TrimPrefix(r.Path(), "/err/") {
				code = code*10 + int32(ch-'0')
			}
			return -code, nil
		})
	}
}

func TestServerErrors(t *testing.T) {
	srv := owtest.NewFakeServer(t, errorServer(nil))
	c := newClient(t, srv.Addr, owclient.Options{})
	cases := []struct {
		path     string
		code     int32
		text     string
		is       error
		notExist bool
	}{
		{"/err/95", 95, "legacy - Not supported", syscall.EOPNOTSUPP, false},
		{"/err/2", 2, "legacy - No such entity", syscall.ENOENT, true},
		{"/err/1", 1, "Startup - command line parameters invalid", syscall.ENOENT, true},
		{"/err/22", 22, "text x", syscall.EINVAL, false},
		// Codes OWFS does not define, or beyond any errno, are EIO; OWFS's
		// own codes mean what their text says, not the errno of the
		// same number (38 is not ENOSYS, 29 not ESPIPE).
		{"/err/150", 150, syscall.Errno(150).Error(), syscall.EIO, false},
		{"/err/600", 600, syscall.Errno(600).Error(), syscall.EIO, false},
		{"/err/38", 38, "text xx", syscall.ERANGE, false},
		{"/err/29", 29, "text xx", syscall.ENOENT, true},
	}
	for _, tc := range cases {
		_, err := c.Read(context.Background(), tc.path)
		var se *owclient.ServerError
		if !errors.As(err, &se) {
			t.Fatalf("%s: got %v, want a *ServerError", tc.path, err)
		}
		if se.Code != tc.code || se.Text != tc.text || se.Path != tc.path || se.Op != "read" {
			t.Errorf("%s: got %+v, want code %d text %q", tc.path, *se, tc.code, tc.text)
		}
		if !errors.Is(err, tc.is) || errors.Is(err, fs.ErrNotExist) != tc.notExist {
			t.Errorf("%s: errors.Is(%v) false, or ErrNotExist = %v", tc.path, tc.is, !tc.notExist)
		}
		// OWFS's text for 1 misleads ("Startup - command line parameters
		// invalid"): the message says what it means instead.
		if tc.code != 1 && !strings.Contains(err.Error(), tc.text) || tc.code == 1 && strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: message %q lacks OWFS's text, or shows it for code 1", tc.path, err)
		}
	}
	if n := srv.Accepted.Load(); n != 1 {
		t.Errorf("%d connections: the error table should be fetched once, on the same pool", n)
	}
}

func TestInvalidPathsAreNotSent(t *testing.T) {
	srv := owtest.NewFakeServer(t, persistentEcho)
	c := newClient(t, srv.Addr, owclient.Options{})
	for _, p := range []string{"", "/a\x00b", "/\xff\xfe"} {
		if _, err := c.Read(context.Background(), p); !errors.Is(err, owclient.ErrInvalidPath) {
			t.Errorf("Read(%q): got %v, want ErrInvalidPath", p, err)
		}
		if err := c.Write(context.Background(), p, []byte("1")); !errors.Is(err, owclient.ErrInvalidPath) {
			t.Errorf("Write(%q): got %v, want ErrInvalidPath", p, err)
		}
	}
	if n := srv.Accepted.Load(); n != 0 {
		t.Fatalf("%d connections for invalid paths, want 0", n)
	}
}

func TestUnreachableServer(t *testing.T) {
	port, err := owtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, "127.0.0.1:"+itoa(port), owclient.Options{})
	err = c.Ping(context.Background())
	var ce *owclient.ConnError
	if !errors.As(err, &ce) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want a *ConnError wrapping ECONNREFUSED", err)
	}
}

func TestClosedClient(t *testing.T) {
	srv := owtest.NewFakeServer(t, persistentEcho)
	c := newClient(t, srv.Addr, owclient.Options{})
	if _, err := c.Read(context.Background(), tempPath); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c.Close()
	if _, err := c.Read(context.Background(), tempPath); !errors.Is(err, owclient.ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// A WRITE that owserver took only part of (its reply's size says how
// much) is a PartialWriteError, never a silent success.
func TestPartialWrite(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			h := owclient.ReplyHeader{Flags: req.Flags, Size: min(req.Size, 4)}
			if err := c.WriteFrame(h, nil); err != nil || req.Flags&owclient.FlagPersistence == 0 {
				return
			}
		}
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx := context.Background()
	if err := c.WriteAt(ctx, "/23.000023DC0300/pages/page.1", []byte("abcd"), 28); err != nil {
		t.Errorf("4 bytes taken of 4: %v", err)
	}
	err := c.WriteAt(ctx, "/23.000023DC0300/pages/page.1", []byte("abcdefgh"), 28)
	var pe *owclient.PartialWriteError
	if !errors.As(err, &pe) || pe.Written != 4 || pe.Sent != 8 || !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("4 bytes taken of 8: %v, want a PartialWriteError of 4 of 8", err)
	}
}

// A request owserver cannot take (path and value over its limit: it
// resets the connection) is refused before anything is sent.
func TestRequestTooLargeIsNotSent(t *testing.T) {
	srv := owtest.NewFakeServer(t, persistentEcho)
	c := newClient(t, srv.Addr, owclient.Options{})
	path := "/10.67C6697351FF/alias"
	fits := make([]byte, owclient.MaxServerPayload-len(path)-1)
	err := c.Write(context.Background(), path, append(fits, 'x'))
	if !errors.Is(err, owclient.ErrRequestTooLarge) {
		t.Errorf("one byte over: %v, want ErrRequestTooLarge", err)
	}
	if n := srv.Accepted.Load(); n != 0 {
		t.Errorf("%d connections: nothing should have been sent", n)
	}
	if err := c.Write(context.Background(), path, fits); errors.Is(err, owclient.ErrRequestTooLarge) {
		t.Errorf("exactly the limit: %v", err)
	}
}
