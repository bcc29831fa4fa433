package owtest

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/owfuse/owfuse/owclient"
)

// Relay is a logging proxy in front of a real owserver: it forwards bytes
// both ways untouched and records every request, so that a test can check
// what reached the server byte for byte (where --tester or --fake would
// not keep a written value).
type Relay struct {
	// Addr is the address to dial instead of the server's.
	Addr string

	target string
	l      net.Listener
	wg     sync.WaitGroup

	mu    sync.Mutex // guards following
	reqs  []Request
	conns map[net.Conn]bool
}

// NewRelay starts a relay to target and stops it when the test ends.
func NewRelay(t testing.TB, target string) *Relay {
	t.Helper()
	r, err := StartRelay(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// StartRelay starts a relay to target on a free loopback port, for a
// program that is not a test (integration/fsbench counts every client's
// messages with one); Close stops it.
func StartRelay(target string) (*Relay, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relay{Addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]bool{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Requests returns the requests seen so far, oldest first.
func (r *Relay) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Writes returns the WRITE requests to path seen so far.
func (r *Relay) Writes(path string) []Request {
	var out []Request
	for _, q := range r.Requests() {
		if q.Type == owclient.MsgWrite && q.Path() == path {
			out = append(out, q)
		}
	}
	return out
}

// Take returns the requests seen since the last Take or Reset, oldest
// first, and forgets them.
func (r *Relay) Take() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.reqs
	r.reqs = nil
	return reqs
}

// Reset forgets the requests seen so far.
func (r *Relay) Reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

// Close stops the relay and closes every connection.
func (r *Relay) Close() {
	r.l.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *Relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		return false
	}
	r.conns[c] = true
	return true
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		client, err := r.l.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", r.target)
		if err != nil {
			client.Close()
			continue
		}
		r.track(client)
		r.track(server)
		r.wg.Add(2)
		go func() {
			defer r.wg.Done()
			io.Copy(client, server)
			client.Close()
		}()
		go func() {
			defer r.wg.Done()
			r.forward(server, client)
			server.Close()
		}()
	}
}

// forward copies requests from client to server, recording each.
func (r *Relay) forward(server, client net.Conn) {
	c := &FakeConn{Conn: client}
	for {
		q, err := c.ReadRequest()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, q)
		r.mu.Unlock()
		if _, err := server.Write(append(owclient.AppendRequestHeader(nil, q.RequestHeader), q.Payload...)); err != nil {
			return
		}
	}
}
