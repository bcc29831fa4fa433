package main

import (
	"strings"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// relay is owtest's logging relay in front of an owserver, one per
// client, so that the counts of owfuse and of owfs are each their own.
// Only the counting pass and the tree walks go through one; the timed
// rounds talk to owserver directly, since a relay's hop and CPU would be
// part of what they measure.
type relay struct {
	*owtest.Relay
	close func() // stops it, once; also at exit
}

func startRelay(target string) (*relay, error) {
	r, err := owtest.StartRelay(target)
	if err != nil {
		return nil, err
	}
	return &relay{Relay: r, close: atExit("relay "+r.Addr, r.Close)}, nil
}

// take counts the requests since the last take by message type. A read
// of /structure is how a client learns a property's mode and size, not a
// value read: it is counted apart.
func (r *relay) take() msgCounts {
	c := msgCounts{}
	for _, q := range r.Take() {
		kind := q.Type.String()
		if q.Type == owclient.MsgRead && strings.HasPrefix(q.Path(), "/structure/") {
			kind += " /structure"
		}
		c[kind]++
	}
	return c
}
