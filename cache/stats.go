package cache

import "sync/atomic"

// Kinds of owserver message the cache counts.
const (
	msgDir = iota
	msgRead
	msgWrite
	msgPresence
	msgKinds
)

type counters struct {
	hits     [Directory + 1]atomic.Uint64
	misses   [Directory + 1]atomic.Uint64
	messages [msgKinds]atomic.Uint64
}

// Stats is a snapshot of the cache's counters since it was created.
type Stats struct {
	Hits   [Directory + 1]uint64 // by Class
	Misses [Directory + 1]uint64 // by Class; uncached reads are not counted
	// Owserver messages sent, by kind. Reads include structure lines.
	DirMessages, ReadMessages, WriteMessages uint64
	// PresenceMessages asked whether a device name absent from a listing
	// is one owserver serves (an id hidden by its alias, another spelling).
	PresenceMessages uint64
}

// TotalHits sums Hits over the classes.
func (s Stats) TotalHits() (n uint64) {
	for _, h := range s.Hits {
		n += h
	}
	return n
}

// TotalMisses sums Misses over the classes.
func (s Stats) TotalMisses() (n uint64) {
	for _, m := range s.Misses {
		n += m
	}
	return n
}

// Messages is the number of owserver messages sent.
func (s Stats) Messages() uint64 {
	return s.DirMessages + s.ReadMessages + s.WriteMessages + s.PresenceMessages
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	var s Stats
	for i := range s.Hits {
		s.Hits[i] = c.counters.hits[i].Load()
		s.Misses[i] = c.counters.misses[i].Load()
	}
	s.DirMessages = c.counters.messages[msgDir].Load()
	s.ReadMessages = c.counters.messages[msgRead].Load()
	s.WriteMessages = c.counters.messages[msgWrite].Load()
	s.PresenceMessages = c.counters.messages[msgPresence].Load()
	return s
}
