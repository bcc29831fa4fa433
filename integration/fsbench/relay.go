package main

import (
	"bytes"
	"io"
	"net"
	"sync"

	"github.com/owfuse/owfuse/owclient"
)

// relay forwards TCP connections to an owserver and counts the requests
// that pass, by message type: one relay per client, so that the counts of
// owfuse and of owfs are each their own. Only the counting pass and the
// tree walks go through one; the timed rounds talk to owserver directly,
// since a relay's hop and CPU would be part of what they measure.
type relay struct {
	addr   string
	target string
	l      net.Listener
	mu     sync.Mutex // guards following
	counts msgCounts
	conns  map[net.Conn]bool
}

func startRelay(target string) (*relay, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &relay{addr: l.Addr().String(), target: target, l: l, counts: msgCounts{}, conns: map[net.Conn]bool{}}
	atExit("relay "+r.addr, r.close)
	goSafe(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			goSafe(func() { r.pipe(c) })
		}
	})
	return r, nil
}

// pipe relays one client connection: replies are copied as they come,
// requests frame by frame, each counted by type as it passes.
func (r *relay) pipe(c net.Conn) {
	u, err := net.Dial("tcp", r.target)
	if err != nil {
		c.Close()
		return
	}
	if !r.track(c, u) {
		return
	}
	defer r.untrack(c, u)
	goSafe(func() { io.Copy(c, u); c.Close() })
	hdr := make([]byte, owclient.HeaderSize)
	for {
		if _, err := io.ReadFull(c, hdr); err != nil {
			return
		}
		h := owclient.ParseRequestHeader(hdr)
		payload := make([]byte, max(h.Payload, 0))
		if _, err := io.ReadFull(c, payload); err != nil {
			return
		}
		kind := h.Type.String()
		// A read of /structure is how a client learns a property's
		// mode and size, not a value read: it is counted apart.
		if h.Type == owclient.MsgRead && bytes.HasPrefix(payload, []byte("/structure/")) {
			kind += " /structure"
		}
		r.mu.Lock()
		r.counts[kind]++
		r.mu.Unlock()
		if _, err := u.Write(append(hdr, payload...)); err != nil {
			return
		}
	}
}

func (r *relay) track(cs ...net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil { // closed
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		r.conns[c] = true
	}
	return true
}

func (r *relay) untrack(cs ...net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(r.conns, c)
	}
}

// take returns the counts since the last take and starts again from zero.
func (r *relay) take() msgCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counts
	r.counts = msgCounts{}
	return c
}

func (r *relay) close() {
	r.l.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
	r.conns = nil
}
