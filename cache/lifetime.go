package cache

import (
	"fmt"
	"time"

	"github.com/owfuse/owfuse/owclient"
)

// Class is how long a cached answer may be served.
type Class int

// Change classes, named after OWFS's (ow_filetype.h).
const (
	Volatile  Class = iota // may change at any time: temperatures, counters, clocks
	Stable                 // changes when written: alias, temphigh, settings
	Fixed                  // never changes: ROM id, family, type, structure lines
	Directory              // a directory listing
)

var classNames = [...]string{"volatile", "stable", "fixed", "directory"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Lifetimes says how long each class is served from the cache; 0 disables
// caching for that class.
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

func (l Lifetimes) of(c Class) time.Duration {
	switch c {
	case Fixed:
		return l.Fixed
	case Stable:
		return l.Stable
	case Directory:
		return l.Directory
	}
	return l.Volatile
}

// classOf maps a structure line's change letter to a Class.
func classOf(c owclient.ChangeClass) Class {
	switch c {
	case owclient.Fixed:
		return Fixed
	case owclient.Stable:
		return Stable
	}
	return Volatile // 'v', 't' and anything unknown
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

// location is a path as the cache keys it: owclient.ParsePath's parts,
// with the hub a special directory lies behind (simultaneous/ of one
// branch) spelled canonically, "1F00001FE00500/main".
type location struct {
	uncached bool
	device   string // owclient.Path.Device
	family   string // empty for an alias (ask the server)
	property string
	top      string // owclient.Path.Special
	hub      string
}

func locate(path string) location {
	p := owclient.ParsePath(path)
	loc := location{uncached: p.Uncached, device: p.Device, family: p.Family, property: p.Property, top: p.Special}
	if p.Hub != "" {
		loc.hub = canonicalDevice(p.Hub) + "/" + p.Branch
	}
	return loc
}

// topClass is the class of values outside device directories, which have
// no structure lines.
func topClass(top string) Class {
	switch top {
	case "settings":
		return Stable
	case "structure":
		return Fixed
	}
	return Volatile
}
