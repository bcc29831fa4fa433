package cache

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// store is the cache's LRU of listings and values, bounded both by the
// number of entries and by their bytes: a count alone let a server whose
// values are 4 MiB each fill gigabytes with 4,096 of them. It is safe for
// concurrent use.
//
// Byte counts are an estimate of what an entry holds alive (see size),
// not an exact heap measurement; they are meant to keep the daemon's
// memory within a small machine's means whatever the server sends.
type store struct {
	mu       sync.Mutex // guards following; simplelru is not safe for concurrent use
	lru      *simplelru.LRU[string, entry]
	bytes    int64 // sum of size over the entries held
	maxBytes int64
}

// entryOverhead is what one cached entry costs beyond its key and value:
// the list element, the map slot, the entry's expiry and interface words.
const entryOverhead = 128

// sizeofEntry is the size of an Entry: a string header and a bool,
// padded.
const sizeofEntry = 24

func newStore(entries int, maxBytes int64) (*store, error) {
	s := &store{maxBytes: maxBytes}
	// The callback runs inside simplelru's calls, under s.mu: every way
	// an entry leaves (eviction by count, Remove, Purge) is accounted
	// there.
	l, err := simplelru.NewLRU[string, entry](entries, func(k string, e entry) { s.bytes -= size(k, e) })
	if err != nil {
		return nil, err
	}
	s.lru = l
	return s, nil
}

// size estimates the bytes that an entry keeps alive: the capacity of a
// value (not its length: a short slice of a big buffer holds the whole
// buffer), the names of a listing, the key and the fixed overhead.
func size(key string, e entry) int64 {
	n := int64(len(key) + entryOverhead)
	switch v := e.value.(type) {
	case []byte:
		n += int64(cap(v))
	case []Entry:
		n += int64(cap(v)) * sizeofEntry
		for _, en := range v {
			n += int64(len(en.Name))
		}
	}
	return n
}

// Add stores e under key, replacing what was there, and evicts the least
// recently used entries until the bytes fit again. An entry larger than
// the whole budget is not stored (and what it replaces is dropped): it
// would only evict everything else and then itself.
func (s *store) Add(key string, e entry) {
	n := size(key, e)
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.maxBytes {
		s.lru.Remove(key)
		return
	}
	if old, ok := s.lru.Peek(key); ok {
		// simplelru replaces a value without calling back.
		s.bytes -= size(key, old)
	}
	s.lru.Add(key, e) // may evict the oldest by count, through the callback
	s.bytes += n
	for s.bytes > s.maxBytes {
		if _, _, ok := s.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// Get returns the entry under key and marks it recently used.
func (s *store) Get(key string) (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Get(key)
}

// Peek returns the entry under key without marking it used.
func (s *store) Peek(key string) (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Peek(key)
}

// Remove drops the entry under key, if any.
func (s *store) Remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lru.Remove(key)
}

// Purge drops every entry.
func (s *store) Purge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lru.Purge()
}

// Keys returns the keys, oldest first.
func (s *store) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Keys()
}

// Len returns the number of entries.
func (s *store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}

// Bytes returns the estimated bytes of the entries held.
func (s *store) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}
