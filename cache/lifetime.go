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

// IsDeviceName reports whether name names a device directory in any of
// the spellings owserver accepts: family, 12 hex digits of id, optional
// CRC, optional dots, either case (10.67C6697351FF, 1067c6697351ff,
// 10.67C6697351FF.8D…). owserver serves a device under every one of them,
// whatever the listing shows, so the filesystem must answer them too.
func IsDeviceName(name string) bool { return isDeviceName(name) }

// isDeviceName is IsDeviceName. Hand-written rather than a regexp: it runs
// on every read.
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

// canonicalDevice is the one spelling of a device name that keys its
// values: family and id in upper case, without dot or CRC
// ("28000028D70100" for 28.000028d70100 or 28.000028D70100.D5), so that a
// write through one spelling drops what was cached under the others.
// Aliases are kept as they are.
func canonicalDevice(name string) string {
	if !isDeviceName(name) {
		return name
	}
	var b [14]byte
	n := 0
	for i := 0; i < len(name) && n < len(b); i++ {
		c := name[i]
		switch {
		case c == '.':
			continue
		case 'a' <= c && c <= 'f':
			c -= 'a' - 'A'
		}
		b[n] = c
		n++
	}
	return string(b[:n])
}

// isBus reports whether s is a bus view, bus.0, bus.1…
func isBus(s string) bool { return strings.HasPrefix(s, "bus.") }

// isView reports whether s selects a view of the same devices (uncached,
// bus.N, alarm) rather than naming something itself.
func isView(s string) bool { return s == "uncached" || s == "alarm" || isBus(s) }

// isBranch reports whether s is one of a DS2409 hub's branches, which list
// the devices behind it.
func isBranch(s string) bool { return s == "main" || s == "aux" }

// HoldsDevices reports whether the directory at path lists devices: the
// root, uncached/, bus.N/, alarm/ (and their combinations) and a hub's
// main/ or aux/. A device name owserver accepts there need not be in the
// listing: owserver lists an aliased device by its alias only, and lists
// one spelling of each id.
func HoldsDevices(path string) bool {
	t := strings.Trim(path, "/")
	if t == "" {
		return true
	}
	afterDevice := false
	for _, s := range strings.Split(t, "/") {
		switch {
		case afterDevice:
			if !isBranch(s) {
				return false
			}
			afterDevice = false
		case isView(s):
		case s == "" || specialDirs[s]:
			return false
		default: // a device, by id or alias
			afterDevice = true
		}
	}
	return !afterDevice
}

// location is what a path says about itself.
type location struct {
	uncached bool
	device   string // the last device directory's path, e.g. "/bus.0/10.67C6697351FF" or "/1F.…/main/myalias"
	family   string // from the device name; empty for an alias (ask the server)
	property string // path below the device, e.g. "temperature" or "pages/page.1"
	top      string // for non-device paths: settings, system, statistics, structure, simultaneous, bus.0/interface…
	hub      string // for non-device paths behind a hub: its canonical name and branch, "1F00001FE00500/main"
}

// locate splits an owserver path into its device and property parts.
// Prefixes that select a view of the same devices (uncached, bus.N, alarm)
// are skipped, and so are hubs: behind a DS2409's main/ or aux/ the next
// name is a device (or a view, or simultaneous), so the device is the last
// one in the path.
func locate(path string) location {
	var loc location
	t := strings.Trim(path, "/")
	if t == "" {
		return loc
	}
	segs := strings.Split(t, "/")
	i := 0
	branch := "" // the hub branch the device at i is behind
	for {
		// The last segment is the thing itself, even if it is a view.
		for ; i < len(segs)-1 && isView(segs[i]); i++ {
			if segs[i] == "uncached" {
				loc.uncached = true
			}
		}
		s := segs[i]
		switch {
		case specialDirs[s] || isBus(s):
			loc.top = s
		case s == "interface" && i > 0 && isBus(segs[i-1]):
			// The bus master's own settings and statistics, one set per
			// bus: not a device named "interface".
			loc.top = segs[i-1] + "/interface"
		}
		if loc.top != "" {
			if loc.device != "" {
				loc.hub = canonicalDevice(loc.device[strings.LastIndexByte(loc.device, '/')+1:]) + "/" + branch
				loc.device, loc.family = "", ""
			}
			loc.property = strings.Join(segs[i+1:], "/")
			return loc
		}
		// A device, by id or alias.
		loc.device = "/" + strings.Join(segs[:i+1], "/")
		loc.family = ""
		if isDeviceName(s) {
			loc.family = strings.ToUpper(s[:2])
		}
		if i+2 < len(segs) && isBranch(segs[i+1]) {
			branch = segs[i+1]
			i += 2
			continue
		}
		loc.property = strings.Join(segs[i+1:], "/")
		return loc
	}
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
