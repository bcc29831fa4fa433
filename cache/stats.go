package cache

import (
	"iter"
	"sync/atomic"

	"github.com/owfuse/owfuse/owclient"
)

// Kinds of owserver message the cache counts.
const (
	msgDir = iota
	msgRead
	msgWrite
	msgPresence
	msgKinds
)

type counters struct {
	// By lifetime, as Lifetimes has them.
	fixed, stable, volatile, directory counter
	messages                           [msgKinds]atomic.Uint64
}

// counter counts the lookups of one lifetime.
type counter struct{ hits, misses atomic.Uint64 }

// of is the counter of a change class's lifetime.
func (c *counters) of(class owclient.ChangeClass) *counter {
	return byLifetime(class, &c.fixed, &c.stable, &c.volatile)
}

// Counts are numbers by lifetime, as Lifetimes are durations: by the
// change class of a value, and for listings.
type Counts struct {
	Fixed, Stable, Volatile, Directory uint64
}

// All yields each count with the name metrics label it by: a change
// class's word, or "directory".
func (c Counts) All() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		_ = yield(owclient.Volatile.String(), c.Volatile) &&
			yield(owclient.Stable.String(), c.Stable) &&
			yield(owclient.Fixed.String(), c.Fixed) &&
			yield("directory", c.Directory)
	}
}

// Stats is a snapshot of the cache's counters since it was created.
type Stats struct {
	Hits   Counts
	Misses Counts // uncached reads are not counted
	// Owserver messages sent, by kind. Reads include structure lines.
	DirMessages, ReadMessages, WriteMessages uint64
	// PresenceMessages asked whether a device name absent from a listing
	// is one owserver serves (an id hidden by its alias, another spelling).
	PresenceMessages uint64
}

// Messages is the number of owserver messages sent.
func (s Stats) Messages() uint64 {
	return s.DirMessages + s.ReadMessages + s.WriteMessages + s.PresenceMessages
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	k := &c.counters
	s := Stats{
		Hits:   Counts{Fixed: k.fixed.hits.Load(), Stable: k.stable.hits.Load(), Volatile: k.volatile.hits.Load(), Directory: k.directory.hits.Load()},
		Misses: Counts{Fixed: k.fixed.misses.Load(), Stable: k.stable.misses.Load(), Volatile: k.volatile.misses.Load(), Directory: k.directory.misses.Load()},
	}
	s.DirMessages = c.counters.messages[msgDir].Load()
	s.ReadMessages = c.counters.messages[msgRead].Load()
	s.WriteMessages = c.counters.messages[msgWrite].Load()
	s.PresenceMessages = c.counters.messages[msgPresence].Load()
	return s
}
