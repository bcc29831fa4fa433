package cache

import (
	"fmt"
	"strings"
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

// specialDirs are owserver's top-level directories that are not devices.
var specialDirs = map[string]bool{
	"bus": true, "uncached": true, "settings": true, "system": true, "statistics": true,
	"structure": true, "simultaneous": true, "alarm": true, "text": true, "json": true,
}

// isDeviceName reports whether s names a device directory in any of
// owserver's six formats: family, 12 hex digits of id, optional CRC,
// optional dots (10.67C6697351FF, 1067C6697351FF8D, 10.67C6697351FF.8D…).
// Hand-written rather than a regexp: it runs on every read.
func isDeviceName(s string) bool {
	hex := func(n int) bool {
		if len(s) < n {
			return false
		}
		for i := 0; i < n; i++ {
			c := s[i]
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		s = s[n:]
		return true
	}
	dot := func() {
		if len(s) > 0 && s[0] == '.' {
			s = s[1:]
		}
	}
	if !hex(2) {
		return false
	}
	dot()
	if !hex(12) {
		return false
	}
	if s == "" {
		return true
	}
	dot()
	return hex(2) && s == ""
}

// location is what a path says about itself.
type location struct {
	uncached bool
	device   string // the device directory's path, e.g. "/bus.0/10.67C6697351FF" or "/myalias"
	family   string // from the device name; empty for an alias (ask the server)
	property string // path below the device, e.g. "temperature" or "pages/page.1"
	top      string // for non-device paths: settings, system, statistics, structure, simultaneous
}

// locate splits an owserver path into its device and property parts.
// Prefixes that select a view of the same devices (uncached, bus.N, alarm)
// are skipped.
func locate(path string) location {
	var loc location
	segs := strings.Split(strings.Trim(path, "/"), "/")
	i := 0
	for ; i < len(segs)-1; i++ {
		s := segs[i]
		if s == "uncached" {
			loc.uncached = true
		} else if !(strings.HasPrefix(s, "bus.") || s == "alarm") {
			break
		}
	}
	if i >= len(segs) {
		return loc
	}
	first := segs[i]
	if specialDirs[first] || strings.HasPrefix(first, "bus.") {
		loc.top = first
		loc.property = strings.Join(segs[i+1:], "/")
		return loc
	}
	loc.device = "/" + strings.Join(segs[:i+1], "/")
	if isDeviceName(first) {
		loc.family = strings.ToUpper(first[:2])
	}
	loc.property = strings.Join(segs[i+1:], "/")
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
