package owclient_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// Sentinels are wrapped, and the wrapper names the package: their own
// text must not, or messages say "owclient:" twice.
func TestSentinelTextsDoNotNameThePackage(t *testing.T) {
	for _, err := range []error{
		owclient.ErrClosed, owclient.ErrTimeout, owclient.ErrInvalidPath, owclient.ErrRequestTooLarge,
		owclient.ErrMalformedHeader, owclient.ErrPayloadTooLarge, owclient.ErrShortRead,
		owclient.ErrShortWrite, owclient.ErrUnexpectedReply, owclient.ErrListingTooLarge,
	} {
		if strings.Contains(err.Error(), "owclient") {
			t.Errorf("sentinel %q names the package", err)
		}
	}
}

func TestCallErrorsNameThePackageOnce(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		c.ReadRequest()
		io.Copy(io.Discard, c) // read on, never answer
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Read(ctx, tempPath)
	want := "owclient: read " + tempPath + " on " + srv.Addr + ": timeout: operation deadline exceeded: context deadline exceeded"
	if err == nil || err.Error() != want {
		t.Errorf("timeout: got %v, want %s", err, want)
	}
	c.Close()
	_, err = c.Read(context.Background(), tempPath)
	want = "owclient: read " + tempPath + " on " + srv.Addr + ": client closed"
	if err == nil || err.Error() != want {
		t.Errorf("closed: got %v, want %s", err, want)
	}
}

// SafeToRetry is true exactly when the request never reached owserver.
func TestSafeToRetry(t *testing.T) {
	unreachable := func(t *testing.T) (*owclient.Client, string) {
		port, err := owtest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		return newClient(t, "127.0.0.1:"+itoa(port), owclient.Options{}), tempPath
	}
	silent := func(c *owtest.FakeConn) {
		c.ReadRequest()
		io.Copy(io.Discard, c) // read on, never answer
	}
	cases := []struct {
		name string
		// call fails a request on a client of its making.
		call func(t *testing.T) error
		want bool
	}{
		{"server unreachable", func(t *testing.T) error {
			c, path := unreachable(t)
			_, err := c.Read(context.Background(), path)
			return err
		}, true},
		{"no connection free in time", func(t *testing.T) error {
			received := make(chan struct{}, 1)
			srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
				received <- struct{}{}
				silent(c)
			})
			c := newClient(t, srv.Addr, owclient.Options{PoolSize: 1})
			busy, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); c.Read(busy, tempPath) }()
			defer func() { cancel(); <-done }()
			<-received // the pool's one connection is taken
			ctx, cancelWait := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancelWait()
			_, err := c.Read(ctx, tempPath)
			if !owclient.IsTimeout(err) {
				t.Errorf("got %v, want a timeout", err)
			}
			return err
		}, true},
		{"client closed", func(t *testing.T) error {
			c, path := unreachable(t)
			c.Close()
			_, err := c.Read(context.Background(), path)
			return err
		}, true},
		{"invalid path", func(t *testing.T) error {
			c, _ := unreachable(t)
			_, err := c.Read(context.Background(), "/a\x00b")
			return err
		}, true},
		{"idle connection closed, and the resend cannot connect", func(t *testing.T) error {
			srv := owtest.NewFakeServer(t, persistentEcho)
			c := newClient(t, srv.Addr, owclient.Options{})
			if _, err := c.Read(context.Background(), tempPath); err != nil {
				t.Fatal(err)
			}
			srv.Close() // the pooled connection and the port
			_, err := c.Read(context.Background(), tempPath)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("got %v, want the resend's dial refused", err)
			}
			return err
		}, true},
		{"no answer in time", func(t *testing.T) error {
			srv := owtest.NewFakeServer(t, silent)
			c := newClient(t, srv.Addr, owclient.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := c.Read(ctx, tempPath)
			return err
		}, false},
		{"new connection closed before the reply", func(t *testing.T) error {
			srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) { c.ReadRequest() })
			c := newClient(t, srv.Addr, owclient.Options{})
			_, err := c.Read(context.Background(), tempPath)
			return err
		}, false},
		{"connection lost after a keepalive", func(t *testing.T) error {
			srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
				c.ReadRequest()
				c.Keepalive()
			})
			c := newClient(t, srv.Addr, owclient.Options{})
			_, err := c.Read(context.Background(), tempPath)
			return err
		}, false},
		{"server error", func(t *testing.T) error {
			srv := owtest.NewFakeServer(t, errorServer(nil))
			c := newClient(t, srv.Addr, owclient.Options{})
			_, err := c.Read(context.Background(), "/err/22")
			return err
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(t)
			if err == nil {
				t.Fatal("the request succeeded")
			}
			if got := owclient.SafeToRetry(err); got != tc.want {
				t.Errorf("SafeToRetry(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
}
