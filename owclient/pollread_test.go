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

func TestPollReader(t *testing.T) {
	t.Run("data", func(t *testing.T) {
		c, s := socketPair(t)
		go func() {
			time.Sleep(20 * time.Millisecond) // the reader must wait in poll
			s.Write([]byte("hello"))
		}()
		buf := make([]byte, 5)
		_, err := io.ReadFull(&pollReader{rc: c.rc, deadline: time.Now().Add(5 * time.Second)}, buf)
		if err != nil || string(buf) != "hello" {
			t.Fatalf("got %q, %v; want hello", buf, err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		c, _ := socketPair(t)
		start := time.Now()
		_, err := (&pollReader{rc: c.rc, deadline: start.Add(50 * time.Millisecond)}).Read(make([]byte, 1))
		if el := time.Since(start); !errors.Is(err, os.ErrDeadlineExceeded) || el < 50*time.Millisecond || el > 2*time.Second {
			t.Fatalf("got %v after %v; want a deadline error after 50ms", err, el)
		}
		if !isTimeout(err) {
			t.Fatalf("isTimeout(%v) = false", err)
		}
	})
	t.Run("peer closes", func(t *testing.T) {
		c, s := socketPair(t)
		s.Close()
		_, err := (&pollReader{rc: c.rc, deadline: time.Now().Add(5 * time.Second)}).Read(make([]byte, 1))
		if err != io.EOF {
			t.Fatalf("got %v, want io.EOF", err)
		}
	})
	t.Run("interrupt wakes it", func(t *testing.T) {
		c, _ := socketPair(t)
		time.AfterFunc(50*time.Millisecond, c.interrupt)
		start := time.Now()
		_, err := (&pollReader{rc: c.rc, deadline: start.Add(10 * time.Second)}).Read(make([]byte, 1))
		if el := time.Since(start); err == nil || el > 5*time.Second {
			t.Fatalf("got %v after %v; want an error soon after the interrupt", err, el)
		}
	})
}
