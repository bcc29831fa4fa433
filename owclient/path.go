package owclient

import "strings"

// Path is an owserver path taken apart the way owserver's own parser
// takes it: the device it names and the property below it, or the one of
// owserver's own directories it lies in. Every string in it is a piece of
// the path given to ParsePath (bar Family's case), so taking a path apart
// costs no allocation on the lookups and reads that do it every time.
type Path struct {
	// Uncached says an /uncached/ prefix asks owserver past its own
	// cache.
	Uncached bool
	// Device is the path up to and including the device's directory, as
	// given: "/bus.0/10.67C6697351FF", "/kitchen". Behind a DS2409 hub's
	// main/ or aux/ the next name is a device again, so Device is the
	// last device in the path: "/1F.00001FE00500/main/kitchen". Empty
	// when the path names no device.
	Device string
	// Family is the device's family code in upper case, read from its id
	// ("10"); empty for a device named by an alias, whose family only
	// owserver knows.
	Family string
	// Special is, for a path outside any device, the owserver directory
	// it lies in: settings, system, statistics, structure, simultaneous,
	// text, json; a view (uncached, alarm, bus.N) when the path ends at
	// it; and "bus.N/interface" for a bus master's own settings and
	// statistics, one set per bus. Empty for the root and for devices.
	Special string
	// Bus is, for a Special directory, the bus.N views the path passes
	// through before it, in order ("bus.0", "bus.1/bus.0"): behind an
	// owserver in front of others, /bus.0/settings is another server's
	// settings than /settings. A bus.N that Special names itself
	// (bus.N/interface) is not in it. Empty elsewhere.
	Bus string
	// Hub and Branch say which hub branch a Special directory lies
	// behind (simultaneous conversions of one branch's devices): the
	// hub's name as given and "main" or "aux". Empty elsewhere.
	Hub, Branch string
	// Property is what lies below Device or Special, without surrounding
	// slashes: "temperature", "pages/page.1", "1F/main". Empty for the
	// directory itself.
	Property string

	// endsInView says the path names a view's directory (uncached/,
	// bus.N/, alarm/), which lists devices.
	endsInView bool
}

// kind is what one name in a path is to owserver's parser.
type kind uint8

const (
	// kindDevice is anything owserver does not reserve: a device, by id
	// or by alias (and "interface" after bus.N, which ParsePath sees to).
	kindDevice kind = iota
	// kindView selects a view of the same devices: uncached, alarm, bus.N.
	kindView
	// kindSpecial is one of owserver's own directories.
	kindSpecial
)

// ownNames are the names owserver keeps for its own directories, bar
// bus.N. listed says a listing with FlagBusRet shows it at the root. text
// and json (presentation prefixes) and a bare "bus" are reserved without
// being listed; text and json are no views for owfuse although owserver
// lists devices in them: their values are formatted otherwise, so they
// must never share a device value's cache entry.
var ownNames = [...]struct {
	name   string
	kind   kind
	listed bool
}{
	{"uncached", kindView, true}, {"alarm", kindView, true},
	{"settings", kindSpecial, true}, {"system", kindSpecial, true}, {"statistics", kindSpecial, true},
	{"structure", kindSpecial, true}, {"simultaneous", kindSpecial, true},
	{"text", kindSpecial, false}, {"json", kindSpecial, false}, {"bus", kindSpecial, false},
}

// kindOf classifies one name. A loop over ten names rather than a map:
// most differ in length, and it runs for every name of every lookup.
func kindOf(name string) kind {
	for _, o := range ownNames {
		if o.name == name {
			return o.kind
		}
	}
	if strings.HasPrefix(name, "bus.") {
		return kindView
	}
	return kindDevice
}

// IsSpecialDir reports whether name, at owserver's root, is one of
// owserver's own directories with a fixed name: those a listing with
// FlagBusRet shows beside the devices and bus.N (uncached, settings,
// system, statistics, structure, simultaneous, alarm). They are there
// whether or not a listing shows them; bus.N is left out because which
// numbers exist depends on the buses.
func IsSpecialDir(name string) bool {
	for _, o := range ownNames {
		if o.name == name {
			return o.listed
		}
	}
	return false
}

// isBranch reports whether name is one of a DS2409 hub's branches, which
// list the devices behind it.
func isBranch(name string) bool { return name == "main" || name == "aux" }

// ParsePath takes an owserver path apart. Views (uncached/, bus.N/,
// alarm/) before a device are skipped, as owserver serves the same device
// through each; so are hubs' branches, behind which the next name is a
// device again. Empty names (doubled slashes) are skipped, as owserver
// skips them. Any string parses: what is not owserver's is a device by
// alias.
func ParsePath(p string) Path {
	var r Path
	// bus is the last bus.N among the views before the current name, for
	// bus.N/interface: owserver serves /bus.0/uncached/interface as it does
	// /uncached/bus.0/interface.
	bus := ""
	// chain is the bus.N views so far, joined by slashes: a piece of p
	// from chainAt while they follow one another, else built (chainAt -1).
	chain, chainAt := "", 0
	for i := 0; ; {
		start, end := nextName(p, i)
		if start == end {
			return r // the root
		}
		name := p[start:end]
		last := skipSlashes(p, end) == len(p)
		k := kindOf(name)
		if k == kindView && !last {
			r.Uncached = r.Uncached || name == "uncached"
			if strings.HasPrefix(name, "bus.") {
				bus = name
				switch {
				case chain == "":
					chain, chainAt = name, start
				case chainAt >= 0 && start == chainAt+len(chain)+1:
					chain = p[chainAt:end]
				default:
					// Other views between: a rare path, one allocation.
					chain, chainAt = chain+"/"+name, -1
				}
			}
			i = end
			continue
		}
		special := ""
		switch {
		case k != kindDevice:
			special = name
		case name == "interface" && bus != "":
			if special = p[start-len(bus)-1 : end]; special[:len(bus)] != bus {
				// Views lie between: the one allocation, on a rare path.
				special = bus + "/interface"
			}
			// That bus is the special directory's own, not one it lies
			// behind.
			chain = chain[:max(strings.LastIndexByte(chain, '/'), 0)]
		}
		if special != "" {
			if r.Device != "" {
				r.Hub = r.Device[strings.LastIndexByte(r.Device, '/')+1:]
				r.Device, r.Family = "", ""
			}
			r.Special, r.Bus = special, chain
			r.endsInView = k == kindView
			r.Property = strings.Trim(p[end:], "/")
			return r
		}
		r.Device, r.Family = p[:end], ""
		if IsDeviceName(name) {
			r.Family = strings.ToUpper(name[:2])
		}
		bStart, bEnd := nextName(p, end)
		if isBranch(p[bStart:bEnd]) && skipSlashes(p, bEnd) < len(p) {
			r.Branch = p[bStart:bEnd]
			bus, chain, i = "", "", bEnd
			continue
		}
		r.Branch = ""
		r.Property = strings.Trim(p[end:], "/")
		return r
	}
}

// nextName returns the bounds of the first name in p at or after i.
func nextName(p string, i int) (start, end int) {
	start = skipSlashes(p, i)
	end = start
	for end < len(p) && p[end] != '/' {
		end++
	}
	return start, end
}

// skipSlashes returns where the slashes at i end.
func skipSlashes(p string, i int) int {
	for i < len(p) && p[i] == '/' {
		i++
	}
	return i
}

// ListsDevices reports whether the directory at the path lists devices:
// the root, a view (uncached/, bus.N/, alarm/, in any combination) and a
// hub's main/ or aux/. A device name owserver accepts there need not be
// in the listing: owserver lists an aliased device by its alias only, and
// one spelling of each id.
func (p Path) ListsDevices() bool {
	if p.Device != "" {
		return isBranch(p.Property)
	}
	return p.Special == "" || p.endsInView
}

// IsDeviceName reports whether name is a device's id in any of the
// spellings owserver accepts: family, 12 hex digits of id, optional CRC,
// optional dots, either case (10.67C6697351FF, 1067c6697351ff,
// 10.67C6697351FF.8D…). owserver serves a device under every one of them,
// whatever its listing shows, so a filesystem must answer them too.
func IsDeviceName(name string) bool {
	_, ok := parseID(name)
	return ok
}

// CanonicalID returns the spelling of a device id that is the same for
// every spelling owserver accepts: family and id in upper case, without
// dots or CRC ("28000028D70100" for 28.000028d70100 or 28.000028D70100.D5).
// ok is false for a name that is no id, such as an alias.
func CanonicalID(name string) (id string, ok bool) {
	b, ok := parseID(name)
	if !ok {
		return "", false
	}
	if name == string(b[:]) { // already canonical: no copy
		return name, true
	}
	return string(b[:]), true
}

// parseID reads a device id in any spelling. Hand-written rather than a
// regexp: it runs on every lookup and read.
func parseID(s string) (id [14]byte, ok bool) {
	n := 0
	hex := func(digits int) bool {
		if len(s) < digits {
			return false
		}
		for i := 0; i < digits; i++ {
			c := s[i]
			switch {
			case '0' <= c && c <= '9', 'A' <= c && c <= 'F':
			case 'a' <= c && c <= 'f':
				c -= 'a' - 'A'
			default:
				return false
			}
			if n < len(id) {
				id[n] = c
				n++
			}
		}
		s = s[digits:]
		return true
	}
	dot := func() {
		if len(s) > 0 && s[0] == '.' {
			s = s[1:]
		}
	}
	if !hex(2) {
		return id, false
	}
	dot()
	if !hex(12) {
		return id, false
	}
	if s == "" {
		return id, true
	}
	dot()
	return id, hex(2) && s == ""
}
