package owtest

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/owfuse/owfuse/owclient"
)

// FakeServer is a scripted owserver on a loopback port. Each accepted
// connection runs the script in a goroutine of its own and is closed when
// the script returns.
type FakeServer struct {
	// Addr is the address to dial, 127.0.0.1:port.
	Addr string
	// Accepted counts the connections accepted so far.
	Accepted atomic.Int64

	l      net.Listener
	script func(*FakeConn)
	wg     sync.WaitGroup

	mu    sync.Mutex // guards following
	conns map[net.Conn]bool
}

// NewFakeServer starts a server that runs script on every connection and
// stops it, closing every connection, when the test ends.
func NewFakeServer(t testing.TB, script func(*FakeConn)) *FakeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &FakeServer{Addr: l.Addr().String(), l: l, script: script, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

func (s *FakeServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.l.Accept()
		if err != nil {
			return
		}
		s.Accepted.Add(1)
		s.mu.Lock()
		s.conns[nc] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
				nc.Close()
			}()
			s.script(&FakeConn{Conn: nc})
		}()
	}
}

// Close stops accepting, closes every connection and waits for the
// scripts to return.
func (s *FakeServer) Close() {
	s.l.Close()
	s.mu.Lock()
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// FakeConn is one connection to a FakeServer, as its script sees it.
type FakeConn struct {
	net.Conn
}

// Request is a request as the fake server received it.
type Request struct {
	owclient.RequestHeader
	Payload []byte
}

// Path returns the request's path: the payload up to the first NUL.
func (r Request) Path() string {
	p := r.Payload
	for i, b := range p {
		if b == 0 {
			return string(p[:i])
		}
	}
	return string(p)
}

// Data returns what follows the path's NUL (a WRITE's value).
func (r Request) Data() []byte {
	for i, b := range r.Payload {
		if b == 0 {
			return r.Payload[i+1:]
		}
	}
	return nil
}

// ReadRequest reads one request frame. It returns io.EOF when the client
// closed the connection.
func (c *FakeConn) ReadRequest() (Request, error) {
	var hdr [owclient.HeaderSize]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return Request{}, err
	}
	h := owclient.ParseRequestHeader(hdr[:])
	if h.Payload < 0 || h.Payload > owclient.MaxServerPayload {
		return Request{}, errors.New("owtest: bad request payload length")
	}
	p := make([]byte, h.Payload)
	if _, err := io.ReadFull(c, p); err != nil {
		return Request{}, err
	}
	return Request{RequestHeader: h, Payload: p}, nil
}

// WriteFrame writes h and payload exactly as given, lies included.
func (c *FakeConn) WriteFrame(h owclient.ReplyHeader, payload []byte) error {
	_, err := c.Write(append(owclient.AppendReplyHeader(nil, h), payload...))
	return err
}

// Keepalive writes one keepalive frame.
func (c *FakeConn) Keepalive() error {
	return c.WriteFrame(owclient.ReplyHeader{Payload: -1}, nil)
}

// Reply answers req the way owserver does: ret, data as the payload, the
// request's flags echoed, a successful WRITE's size as taken whole, and
// persistence granted if asked for. It reports whether the connection
// stays open.
func (c *FakeConn) Reply(req Request, ret int32, data []byte) (bool, error) {
	h := owclient.ReplyHeader{Payload: int32(len(data)), Ret: ret, Flags: req.Flags, Size: int32(len(data)), Offset: req.Offset}
	if req.Type == owclient.MsgWrite && ret >= 0 {
		h.Size = req.Size // owserver: how many bytes it took
	}
	return req.Flags&owclient.FlagPersistence != 0, c.WriteFrame(h, data)
}

// Answer serves requests with f until the client closes the connection or
// stops asking for persistence; f returns owserver's return code and data.
func (c *FakeConn) Answer(f func(Request) (int32, []byte)) {
	for {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		ret, data := f(req)
		if keep, err := c.Reply(req, ret, data); err != nil || !keep {
			return
		}
	}
}
