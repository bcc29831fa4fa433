package owclient_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// dirServer refuses DIRALLSLASH and DIRALL, as an old owserver or one run
// with --no_dirall does, and answers MSG_DIR with one frame per entry
// that entries yields, then the terminator. entries gets a send function
// and stops when it returns an error (the client hung up).
func dirServer(t *testing.T, entries func(send func(string) error)) *owtest.FakeServer {
	return owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		// Frames are built in reused buffers: the test measures what the
		// client allocates, in the same process.
		w := bufio.NewWriter(c)
		var hdr, entry []byte
		frame := func(h owclient.ReplyHeader, p []byte) error {
			hdr = owclient.AppendReplyHeader(hdr[:0], h)
			w.Write(hdr)
			_, err := w.Write(p)
			return err
		}
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			if req.Type != owclient.MsgDir {
				err = frame(owclient.ReplyHeader{Ret: -int32(syscall.ENOMSG), Flags: req.Flags}, nil)
			} else {
				entries(func(e string) error {
					if err != nil {
						return err
					}
					entry = append(append(entry[:0], e...), 0)
					err = frame(owclient.ReplyHeader{Payload: int32(len(e) + 1), Size: int32(len(e)), Flags: req.Flags}, entry)
					return err
				})
				if err == nil {
					err = frame(owclient.ReplyHeader{Flags: req.Flags}, nil)
				}
			}
			if err != nil || w.Flush() != nil || req.Flags&owclient.FlagPersistence == 0 {
				return
			}
		}
	})
}

// endless sends one entry of n bytes again and again until the client
// hangs up (the client does not look for duplicates: the cache does).
func endless(n int) func(func(string) error) {
	return func(send func(string) error) {
		e := "/" + strings.Repeat("x", n-1)
		for send(e) == nil {
		}
	}
}

// TestDirFloodIsBounded: an endless MSG_DIR listing, of tiny entries
// (the entry limit) or of long ones (the byte limit), fails with
// ErrListingTooLarge long before the deadline, and costs a bounded amount
// of memory. Without the limits the client gathers entries until the
// deadline.
func TestDirFloodIsBounded(t *testing.T) {
	for _, size := range []int{1, 1000} {
		t.Run(fmt.Sprintf("%d-byte entries", size), func(t *testing.T) {
			srv := dirServer(t, endless(size))
			c := newClient(t, srv.Addr, owclient.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var err error
			within(t, 25*time.Second, func() { _, err = c.Dir(ctx, "/") })
			runtime.ReadMemStats(&after)
			var pe *owclient.ProtocolError
			if !errors.As(err, &pe) || !errors.Is(err, owclient.ErrListingTooLarge) {
				t.Fatalf("got %v, want a *ProtocolError of kind ErrListingTooLarge", err)
			}
			// The entry limit: 2^18 entries of a header and a small
			// allocation (8 MiB), their frames' payloads and the slice's
			// growth (8 MiB copied in all); the byte limit: 4 MiB of
			// payloads, read and kept.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
				t.Errorf("allocated %d MiB for one refused listing", grew>>20)
			}
			t.Logf("%v; allocated %.1f MiB in all", err, float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
		})
	}
}

// TestDirHundredThousandEntries: a bus of 100,000 devices lists whole,
// frame by frame and as one DIRALL reply.
func TestDirHundredThousandEntries(t *testing.T) {
	const n = 100_000
	name := func(i int) string { return fmt.Sprintf("/10.%012X", i) }
	t.Run("MSG_DIR", func(t *testing.T) {
		srv := dirServer(t, func(send func(string) error) {
			for i := 0; i < n && send(name(i)) == nil; i++ {
			}
		})
		c := newClient(t, srv.Addr, owclient.Options{})
		got, err := c.Dir(context.Background(), "/")
		if err != nil || len(got) != n || got[n-1] != name(n-1) {
			t.Fatalf("got %d entries, %v; want %d", len(got), err, n)
		}
	})
	t.Run("DIRALLSLASH", func(t *testing.T) {
		var list strings.Builder
		for i := 0; i < n; i++ {
			if i > 0 {
				list.WriteByte(',')
			}
			list.WriteString(name(i) + "/")
		}
		srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
			c.Answer(func(owtest.Request) (int32, []byte) { return 0, []byte(list.String() + "\x00") })
		})
		c := newClient(t, srv.Addr, owclient.Options{})
		got, err := c.Dir(context.Background(), "/")
		if err != nil || len(got) != n || got[n-1] != name(n-1)+"/" {
			t.Fatalf("got %d entries, %v; want %d", len(got), err, n)
		}
	})
}

// TestDirAllOfCommas: a DIRALL reply within the payload limit that would
// split into more than MaxDirEntries names is refused, not split into
// millions of empty strings.
func TestDirAllOfCommas(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		c.Answer(func(owtest.Request) (int32, []byte) {
			return 0, []byte(strings.Repeat(",", owclient.MaxDirEntries) + "\x00")
		})
	})
	c := newClient(t, srv.Addr, owclient.Options{})
	_, err := c.Dir(context.Background(), "/")
	if !errors.Is(err, owclient.ErrListingTooLarge) {
		t.Fatalf("got %v, want ErrListingTooLarge", err)
	}
}

// TestReadReplyLargerThanAsked: a READ reply larger than the size asked
// for is a protocol error, found in the header before the payload is
// read or allocated, and its connection is not used again.
func TestReadReplyLargerThanAsked(t *testing.T) {
	cases := []struct {
		name    string
		size    int
		payload int32
		ok      bool
	}{
		{"4 MiB for 65536", owclient.DefaultReadSize, 4 << 20, false},
		{"one byte more", 100, 101, false},
		{"two bytes for one", 1, 2, false},
		{"exactly as asked", 100, 100, true},
		{"less than asked", 100, 12, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
				for {
					req, err := c.ReadRequest()
					if err != nil {
						return
					}
					if req.Path() == "/good" {
						c.Reply(req, 4, []byte("21.5"))
						continue
					}
					// The header alone, then silence: a client that
					// allocated and waited for the payload would time
					// out instead of refusing it.
					c.WriteFrame(owclient.ReplyHeader{Payload: tc.payload, Ret: tc.payload, Size: tc.payload, Flags: req.Flags}, nil)
					if tc.ok {
						c.Write(make([]byte, tc.payload))
					}
				}
			})
			c := newClient(t, srv.Addr, owclient.Options{FrameTimeout: 5 * time.Second})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var data []byte
			var err error
			within(t, 3*time.Second, func() { data, err = c.ReadAt(context.Background(), "/bad", tc.size, 0) })
			runtime.ReadMemStats(&after)
			if tc.ok {
				if err != nil || len(data) != int(tc.payload) {
					t.Fatalf("got %d bytes, %v; want %d", len(data), err, tc.payload)
				}
				return
			}
			var pe *owclient.ProtocolError
			if !errors.As(err, &pe) || !errors.Is(err, owclient.ErrPayloadTooLarge) || !strings.Contains(err.Error(), "asked") {
				t.Fatalf("got %v, want a *ProtocolError of kind ErrPayloadTooLarge naming the size asked", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Errorf("allocated %d bytes for a refused reply", grew)
			}
			// The connection was closed: the next request gets a new one.
			if v, err := c.Read(context.Background(), "/good"); err != nil || string(v) != "21.5" {
				t.Fatalf("read after the refused reply: %q, %v", v, err)
			}
			if n := srv.Accepted.Load(); n != 2 {
				t.Errorf("%d connections accepted, want 2 (the refused one closed)", n)
			}
		})
	}
}
