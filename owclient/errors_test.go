package owclient_test

import (
	"context"
	"io"
	"strings"
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
