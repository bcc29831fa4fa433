package cache

import (
	"time"

	"github.com/owfuse/owfuse/owclient"
)

// Lifetimes says how long values of each change class, and listings, are
// served from the cache; 0 disables caching them.
type Lifetimes struct {
	Fixed     time.Duration
	Stable    time.Duration
	Volatile  time.Duration
	Directory time.Duration
}

// DefaultLifetimes are what a person watching a thermometer accepts: a
// temperature at most a second old (owserver itself keeps volatile values
// for 15 s unless asked under /uncached/), a written setting seen at once
// (writes through the cache drop it) and new devices within 10 s.
func DefaultLifetimes() Lifetimes {
	return Lifetimes{Fixed: time.Hour, Stable: 30 * time.Second, Volatile: time.Second, Directory: 10 * time.Second}
}

// of is the lifetime of a change class.
func (l Lifetimes) of(c owclient.ChangeClass) time.Duration {
	return byLifetime(c, l.Fixed, l.Stable, l.Volatile)
}

// byLifetime picks, of what belongs to fixed, stable and volatile values,
// what belongs to class c. Timer values (clocks) and classes no structure
// line has count as volatile: a second is all a clock's reader allows.
func byLifetime[T any](c owclient.ChangeClass, fixed, stable, volatile T) T {
	switch c {
	case owclient.Fixed:
		return fixed
	case owclient.Stable:
		return stable
	}
	return volatile
}

// canonicalDevice is the name that keys a device's values: its id in
// owclient.CanonicalID's spelling, so that a write through one spelling
// drops what was cached under the others. Aliases are kept as they are:
// only owserver knows the id behind one.
func canonicalDevice(name string) string {
	if id, ok := owclient.CanonicalID(name); ok {
		return id
	}
	return name
}

// hubKey is the hub a special directory of p lies behind (simultaneous/
// of one branch), spelled canonically: "1F00001FE00500/main"; "" for none.
func hubKey(p owclient.Path) string {
	if p.Hub == "" {
		return ""
	}
	return canonicalDevice(p.Hub) + "/" + p.Branch
}

// topClass is the class of values outside device directories, which have
// no structure lines.
func topClass(top string) owclient.ChangeClass {
	switch top {
	case "settings":
		return owclient.Stable
	case "structure":
		return owclient.Fixed
	}
	return owclient.Volatile
}
