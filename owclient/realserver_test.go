package owclient_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// Tests against Debian's real owserver, each with a server of its own.

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRealServerVerbs(t *testing.T) {
	t.Parallel()
	srv := owtest.StartOwserver(t, "--tester", "10,28")
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx := ctxT(t)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	root, err := c.Dir(ctx, "/")
	if err != nil || strings.Join(root, ",") != "/10.000010EF0000/,/28.000028D70100/" {
		t.Fatalf("Dir(/) = %q, %v", root, err)
	}
	withBus, err := c.Dir(ctx, "/", owclient.WithBus(true), owclient.WithSlash(false))
	if err != nil || !slices.Contains(withBus, "/settings") || !slices.Contains(withBus, "/10.000010EF0000") {
		t.Fatalf("Dir(/, bus, no slash) = %q, %v", withBus, err)
	}
	dev, err := c.Dir(ctx, "/10.000010EF0000")
	if err != nil || !slices.Contains(dev, "/10.000010EF0000/temperature") || !slices.Contains(dev, "/10.000010EF0000/errata/") {
		t.Fatalf("Dir(device) = %q, %v", dev, err)
	}
	v, err := c.Read(ctx, "/10.000010EF0000/temperature")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64); err != nil || len(v) != 12 {
		t.Fatalf("temperature %q: want a 12-byte padded number", v)
	}
	part, err := c.ReadAt(ctx, "/10.000010EF0000/temperature", 4, 8)
	if err != nil || !bytes.Equal(part, v[8:12]) {
		t.Fatalf("ReadAt(4, 8) = %q, %v; want %q", part, err, v[8:12])
	}
	if ok, err := c.Present(ctx, "/10.000010EF0000"); !ok || err != nil {
		t.Fatalf("Present(device) = %v, %v", ok, err)
	}
	if ok, err := c.Present(ctx, "/10.000010EF0001"); ok || err != nil {
		t.Fatalf("Present(missing) = %v, %v", ok, err)
	}
	s, err := c.Structure(ctx, "10", "temperature")
	if err != nil || s.Type != 't' || s.Access != owclient.ReadOnly || s.Size != 12 || s.Change != owclient.Volatile {
		t.Fatalf("Structure(10, temperature) = %+v, %v", s, err)
	}

	_, err = c.Read(ctx, "/10.000010EF0001/temperature")
	var se *owclient.ServerError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &se) || se.Text != "Startup - command line parameters invalid" ||
		!strings.Contains(err.Error(), "no such device or property") {
		t.Errorf("missing device: got %v, want not-exist saying so, with OWFS's text in Text", err)
	}
	err = c.Write(ctx, "/10.000010EF0000/temperature", []byte("30"))
	if !errors.Is(err, syscall.EOPNOTSUPP) || !strings.Contains(err.Error(), "Not supported") {
		t.Errorf("write of read-only: got %v, want EOPNOTSUPP with OWFS's text", err)
	}
	_, err = c.Read(ctx, "/10.000010EF0000")
	if !errors.Is(err, syscall.EISDIR) {
		t.Errorf("read of a directory: got %v, want EISDIR", err)
	}
	_, err = c.Dir(ctx, "/10.000010EF0000/temperature")
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("dir of a file: got %v, want ENOTDIR", err)
	}
}

func TestRealServerSettingsWriteReadsBack(t *testing.T) {
	t.Parallel()
	srv := owtest.StartOwserver(t, "--fake", "10")
	c := newClient(t, srv.Addr, owclient.Options{Flags: owclient.FlagTrim})
	ctx := ctxT(t)
	for _, v := range []string{"20", "37"} {
		if err := c.Write(ctx, "/settings/timeout/volatile", []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := c.Read(ctx, "/settings/timeout/volatile")
		if err != nil || string(got) != v {
			t.Fatalf("after writing %s read %q, %v", v, got, err)
		}
	}
}

func TestRealServerScalesAndFormats(t *testing.T) {
	t.Parallel()
	srv := owtest.StartOwserver(t, "--tester", "10")
	ctx := ctxT(t)
	c := newClient(t, srv.Addr, owclient.Options{Flags: owclient.FlagTrim})
	celsius, err := c.Read(ctx, "/10.000010EF0000/temperature")
	if err != nil {
		t.Fatal(err)
	}
	f := c.WithFlags(c.Flags().WithTempScale(owclient.Fahrenheit).WithDeviceFormat(owclient.FormatFIC))
	defer f.Close()
	fahr, err := f.Read(ctx, "/10.000010EF0000/temperature")
	if err != nil {
		t.Fatal(err)
	}
	cv, _ := strconv.ParseFloat(string(celsius), 64)
	fv, _ := strconv.ParseFloat(string(fahr), 64)
	if d := fv - (cv*9/5 + 32); d > 0.01 || d < -0.01 {
		t.Errorf("%s C read as %s F", celsius, fahr)
	}
	root, err := f.Dir(ctx, "/")
	if err != nil || len(root) != 1 || !strings.HasPrefix(root[0], "/10000010EF0000") || len(root[0]) != 18 {
		t.Errorf("FIC listing %q, %v; want /10000010EF0000CC/", root, err)
	}
}

// --pingcrazy sends a keepalive before every reply; the trace shows them
// skipped.
func TestRealServerPingCrazy(t *testing.T) {
	t.Parallel()
	srv := owtest.StartOwserver(t, "--fake", "10", "--pingcrazy")
	var trace owtest.Buffer
	c := newClient(t, srv.Addr, owclient.Options{Logger: slog.New(slog.NewTextHandler(&trace, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx := ctxT(t)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ctx, tempPath); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Dir(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(trace.String(), "keepalive skipped"); n < 3 {
		t.Errorf("trace shows %d keepalives skipped, want at least 3:\n%s", n, trace.String())
	}
}

func TestRealServerNoPersistenceNoDirall(t *testing.T) {
	t.Parallel()
	srv := owtest.StartOwserver(t, "--fake", "10,28", "--no_persistence", "--no_dirall")
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		root, err := c.Dir(ctx, "/")
		if err != nil || strings.Join(root, ",") != "/10.67C6697351FF,/28.4AEC29CDBAAB" {
			t.Fatalf("Dir(/) = %q, %v", root, err)
		}
		if _, err := c.Read(ctx, tempPath); err != nil {
			t.Fatal(err)
		}
	}
}

// owserver closes idle persistent sockets (here after 1 s); readers
// never see it.
func TestRealServerIdleTimeout(t *testing.T) {
	t.Parallel()
	srv := owtest.StartOwserver(t, "--fake", "10", "--timeout_persistent_low", "1", "--timeout_persistent_high", "1")
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		if _, err := c.Read(ctx, tempPath); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		time.Sleep(1500 * time.Millisecond) // the idle time under test, not synchronisation
	}
}

// owserver takes what fits in a memory page, and says how much.
func TestRealServerPartialWrite(t *testing.T) {
	srv := owtest.StartOwserver(t, "--tester", "23")
	c := newClient(t, srv.Addr, owclient.Options{})
	ctx := context.Background()
	const page = "/23.000023DC0000/pages/page.1"
	for _, tt := range []struct{ off, sent, written int }{{0, 40, 32}, {30, 4, 2}, {32, 4, 0}} {
		err := c.WriteAt(ctx, page, make([]byte, tt.sent), tt.off)
		var pe *owclient.PartialWriteError
		if !errors.As(err, &pe) || pe.Written != tt.written || pe.Sent != tt.sent {
			t.Errorf("%d bytes at %d: %v, want owserver to take %d", tt.sent, tt.off, err, tt.written)
		}
	}
	if err := c.WriteAt(ctx, page, make([]byte, 4), 28); err != nil {
		t.Errorf("4 bytes at 28: %v", err)
	}
}
