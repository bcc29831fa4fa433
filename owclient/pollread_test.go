package owclient

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// socketPair returns the client side of a loopback TCP connection, as a
// conn, and the server side.
func socketPair(t *testing.T) (*conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		s, _ := ln.Accept()
		accepted <- s
	}()
	c, err := dial(t.Context(), &config{addr: ln.Addr().String(), dialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.close(); s.Close() })
	if c.rc == nil {
		t.Fatal("dial left the conn without its RawConn")
	}
	return c, s
}

// pollFor returns a pollReader of c's socket with a frame deadline and a
// poll budget from now.
func pollFor(c *conn, deadline, budget time.Duration) *pollReader {
	now := time.Now()
	return &pollReader{nc: c.nc, rc: c.rc, deadline: now.Add(deadline), until: now.Add(budget)}
}

func TestPollReader(t *testing.T) {
	t.Run("data", func(t *testing.T) {
		c, s := socketPair(t)
		go func() {
			time.Sleep(20 * time.Millisecond) // the reader must wait in poll
			s.Write([]byte("hello"))
		}()
		buf := make([]byte, 5)
		_, err := io.ReadFull(pollFor(c, 5*time.Second, time.Minute), buf)
		if err != nil || string(buf) != "hello" {
			t.Fatalf("got %q, %v; want hello", buf, err)
		}
	})
	t.Run("budget spent: the netpoller takes over", func(t *testing.T) {
		c, s := socketPair(t)
		go func() {
			time.Sleep(50 * time.Millisecond) // well past the 5ms budget
			s.Write([]byte("late"))
		}()
		buf := make([]byte, 4)
		_, err := io.ReadFull(pollFor(c, 5*time.Second, 5*time.Millisecond), buf)
		if err != nil || string(buf) != "late" {
			t.Fatalf("got %q, %v; want late", buf, err)
		}
	})
	t.Run("deadline within the budget", func(t *testing.T) {
		c, _ := socketPair(t)
		start := time.Now()
		_, err := pollFor(c, 50*time.Millisecond, time.Minute).Read(make([]byte, 1))
		if el := time.Since(start); !errors.Is(err, os.ErrDeadlineExceeded) || el < 50*time.Millisecond || el > 2*time.Second {
			t.Fatalf("got %v after %v; want a deadline error after 50ms", err, el)
		}
		if !isTimeout(err) {
			t.Fatalf("isTimeout(%v) = false", err)
		}
	})
	t.Run("deadline after the budget", func(t *testing.T) {
		c, _ := socketPair(t)
		start := time.Now()
		_, err := pollFor(c, 50*time.Millisecond, 5*time.Millisecond).Read(make([]byte, 1))
		if el := time.Since(start); !isTimeout(err) || el < 50*time.Millisecond || el > 2*time.Second {
			t.Fatalf("got %v after %v; want a timeout after 50ms", err, el)
		}
	})
	t.Run("peer closes", func(t *testing.T) {
		c, s := socketPair(t)
		s.Close()
		_, err := pollFor(c, 5*time.Second, time.Minute).Read(make([]byte, 1))
		if err != io.EOF {
			t.Fatalf("got %v, want io.EOF", err)
		}
	})
	t.Run("interrupt wakes it", func(t *testing.T) {
		c, _ := socketPair(t)
		time.AfterFunc(50*time.Millisecond, c.interrupt)
		start := time.Now()
		_, err := pollFor(c, 10*time.Second, time.Minute).Read(make([]byte, 1))
		if el := time.Since(start); err == nil || el > 5*time.Second {
			t.Fatalf("got %v after %v; want an error soon after the interrupt", err, el)
		}
	})
}
