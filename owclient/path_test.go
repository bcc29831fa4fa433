package owclient

import (
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	for _, c := range []struct {
		path string
		want Path
	}{
		{"/10.67C6697351FF/temperature", Path{Device: "/10.67C6697351FF", Family: "10", Property: "temperature"}},
		{"/uncached/bus.0/28.000028d70100/temphigh", Path{Uncached: true, Device: "/uncached/bus.0/28.000028d70100", Family: "28", Property: "temphigh"}},
		{"/kitchen/temperature", Path{Device: "/kitchen", Property: "temperature"}},
		{"/10.67C6697351FF/errata/", Path{Device: "/10.67C6697351FF", Family: "10", Property: "errata"}},
		{"/bus.0", Path{Special: "bus.0"}},
		{"/uncached", Path{Special: "uncached"}},
		{"/settings/timeout/volatile", Path{Special: "settings", Property: "timeout/volatile"}},
		{"/uncached/statistics", Path{Uncached: true, Special: "statistics"}},
		// The bus master's own directory, not a device aliased "interface".
		{"/bus.0/interface/settings/name", Path{Special: "bus.0/interface", Property: "settings/name"}},
		{"/uncached/bus.1/interface", Path{Uncached: true, Special: "bus.1/interface"}},
		// owserver lists interface/ under /bus.0/uncached/ too.
		{"/bus.0/uncached/interface/settings/name", Path{Uncached: true, Special: "bus.0/interface", Property: "settings/name"}},
		{"/bus.0//interface", Path{Special: "bus.0/interface"}},
		// Any views may lie between, as /alarm/bus.0/interface always
		// could (owserver answers neither with alarm/ in it).
		{"/bus.0/alarm/interface", Path{Special: "bus.0/interface"}},
		// Behind an owserver in front of others, bus.N/settings is another
		// server's: the buses are part of what the path names.
		{"/bus.0/system/process/pid", Path{Bus: "bus.0", Special: "system", Property: "process/pid"}},
		{"/uncached/bus.1/bus.0/settings/timeout/volatile", Path{Uncached: true, Bus: "bus.1/bus.0", Special: "settings", Property: "timeout/volatile"}},
		{"/bus.1/uncached/bus.0/settings", Path{Uncached: true, Bus: "bus.1/bus.0", Special: "settings"}},
		{"/bus.0/bus.0/interface/settings/name", Path{Bus: "bus.0", Special: "bus.0/interface", Property: "settings/name"}},
		{"/bus.0/bus.1", Path{Bus: "bus.0", Special: "bus.1"}},
		// A device is the same device through any bus.
		{"/bus.0/10.67C6697351FF/temperature", Path{Device: "/bus.0/10.67C6697351FF", Family: "10", Property: "temperature"}},
		// An alias "interface" at the root is a device.
		{"/interface/temperature", Path{Device: "/interface", Property: "temperature"}},
		// Behind a hub the device is the last one in the path.
		{"/1F.00001FE00500/main/10.000010EF0000/temperature", Path{Device: "/1F.00001FE00500/main/10.000010EF0000", Family: "10", Property: "temperature"}},
		{"/bus.0/1F.00001FE00500/aux/lounge/errata/die", Path{Device: "/bus.0/1F.00001FE00500/aux/lounge", Property: "errata/die"}},
		{"/hub/main/1F.00001FE00600/aux/28.000028D70100", Path{Device: "/hub/main/1F.00001FE00600/aux/28.000028D70100", Family: "28"}},
		{"/1F.00001FE00500/main", Path{Device: "/1F.00001FE00500", Family: "1F", Property: "main"}},
		{"/1F.00001FE00500/main/alarm/28.000028D70100/temperature", Path{Device: "/1F.00001FE00500/main/alarm/28.000028D70100", Family: "28", Property: "temperature"}},
		{"/1f00001fe00500/main/simultaneous/temperature", Path{Special: "simultaneous", Hub: "1f00001fe00500", Branch: "main", Property: "temperature"}},
		{"/structure/1F/main", Path{Special: "structure", Property: "1F/main"}},
		// Presentation prefixes: owserver's own, not a device's values.
		{"/text/10.67C6697351FF/temperature", Path{Special: "text", Property: "10.67C6697351FF/temperature"}},
		// Doubled slashes are nothing, as to owserver.
		{"//uncached//10.67C6697351FF//temperature", Path{Uncached: true, Device: "//uncached//10.67C6697351FF", Family: "10", Property: "temperature"}},
		{"/", Path{}},
		{"", Path{}},
	} {
		got := ParsePath(c.path)
		got.endsInView = false // see TestListsDevices
		if got != c.want {
			t.Errorf("ParsePath(%q) = %+v, want %+v", c.path, got, c.want)
		}
	}
}

func TestListsDevices(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/uncached": true, "/bus.0": true, "/uncached/bus.0": true, "/alarm": true, "/bus.0/alarm": true,
		"/1F.00001FE00500/main": true, "/hub/aux": true, "/uncached/1F.00001FE00500/main/1F.00001FE00600/aux": true,
		"/1F.00001FE00500/main/alarm": true, "/uncached/": true,
		"/10.000010EF0000": false, "/bus.0/interface": false, "/settings": false, "/structure": false,
		"/structure/1F": false, "/1F.00001FE00500/main/10.000010EF0000": false, "/10.000010EF0000/errata": false,
		"/statistics": false, "/system": false, "/simultaneous": false, "/text": false, "/bus": false,
	} {
		if got := ParsePath(p).ListsDevices(); got != want {
			t.Errorf("ParsePath(%q).ListsDevices() = %v, want %v", p, got, want)
		}
	}
}

func TestIsSpecialDir(t *testing.T) {
	for name, want := range map[string]bool{
		"uncached": true, "settings": true, "system": true, "statistics": true, "structure": true, "simultaneous": true, "alarm": true,
		// Not listed with FlagBusRet, or with a number that depends on the buses.
		"bus.0": false, "bus": false, "text": false, "json": false,
		"10.67C6697351FF": false, "kitchen": false, "": false, "Settings": false,
	} {
		if got := IsSpecialDir(name); got != want {
			t.Errorf("IsSpecialDir(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsDeviceName(t *testing.T) {
	for s, want := range map[string]bool{
		"10.67C6697351FF": true, "1067C6697351FF": true, "10.67C6697351FF.8D": true, "10.67C6697351FF8D": true,
		"1067C6697351FF.8D": true, "1067C6697351FF8D": true, "10.67c6697351ff": true,
		"": false, "10": false, "10.67C6697351F": false, "10.67C6697351FFX": false, "10.67C6697351FF.8": false,
		"10..67C6697351FF": false, "kitchen": false, "bus.0": false, "10.67C6697351FF.8D.": false, "G0.67C6697351FF": false,
		"10.67C6697351FF8D0": false, "1067C6697351F": false, "10.67C6697351FF/": false,
	} {
		if got := IsDeviceName(s); got != want {
			t.Errorf("IsDeviceName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCanonicalID(t *testing.T) {
	for _, s := range []string{"28.000028D70100", "28.000028d70100", "28000028D70100", "28.000028D70100.D5", "28000028d70100d5"} {
		if id, ok := CanonicalID(s); id != "28000028D70100" || !ok {
			t.Errorf("CanonicalID(%q) = %q, %v; want 28000028D70100, true", s, id, ok)
		}
	}
	for _, s := range []string{"kitchen", "28.000028D7010", ""} {
		if id, ok := CanonicalID(s); id != "" || ok {
			t.Errorf("CanonicalID(%q) = %q, %v; want no id", s, id, ok)
		}
	}
}

// Taking a path apart runs on every lookup and read: it must not cost the
// garbage collector anything for a device's usual path.
func TestParsePathAllocations(t *testing.T) {
	var sink Path
	for _, p := range []string{"/uncached/bus.0/10.67C6697351FF/temperature", "/1F.00001FE00500/main/kitchen/pages/page.1", "/bus.0/interface/settings/name"} {
		if n := testing.AllocsPerRun(100, func() { sink = ParsePath(p) }); n != 0 {
			t.Errorf("ParsePath(%q): %v allocations, want 0", p, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = CanonicalID("28000028D70100") }); n != 0 {
		t.Errorf("CanonicalID of a canonical id: %v allocations, want 0", n)
	}
	_ = sink
}

// FuzzParsePath checks that any path parses without panicking into pieces
// of itself that parse again the same way, and that names and ids agree.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/10.67C6697351FF/temperature", "/uncached/bus.0/10.67C6697351FF/pages/page.1",
		"/settings/timeout/volatile", "/kitchen/temperature", "/", "", "//", "/uncached", "/alarm/28.1234567890AB/x",
		"/bus.0/interface/settings/name", "/1f00001fe00500/main/simultaneous/temperature", "/hub/aux/28000028d70100d5/temphigh",
		"/bus.0/uncached/interface/settings/name", "/bus.1/alarm/bus.0/interface"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := ParsePath(p)
		if r.Device != "" {
			if !strings.HasPrefix(p, r.Device) || r.Special != "" || r.Hub != "" || r.Branch != "" {
				t.Fatalf("%q: device %q with special %q, hub %q/%q", p, r.Device, r.Special, r.Hub, r.Branch)
			}
			name := r.Device[strings.LastIndexByte(r.Device, '/')+1:]
			if id, ok := CanonicalID(name); ok != IsDeviceName(name) || ok != (r.Family != "") || (ok && id[:2] != r.Family) {
				t.Fatalf("%q: device %q, family %q, id %q %v", p, name, r.Family, id, ok)
			}
			if again := ParsePath(r.Device + "/" + r.Property); again != r {
				t.Fatalf("%q parsed as %+v, its device and property as %+v", p, r, again)
			}
		}
		if r.Family != "" && (len(r.Family) != 2 || strings.ToUpper(r.Family) != r.Family) {
			t.Fatalf("%q: family %q", p, r.Family)
		}
		if strings.HasPrefix(r.Property, "/") || strings.HasSuffix(r.Property, "/") {
			t.Fatalf("%q: property %q", p, r.Property)
		}
		special := r.Special
		if bus, ok := strings.CutSuffix(special, "/interface"); ok && !strings.Contains(p, special) {
			special = bus // views between bus.N and interface
		}
		for _, bus := range strings.Split(r.Bus, "/") {
			if !strings.HasPrefix(bus, "bus.") && bus != "" || !strings.Contains(p, bus) || r.Bus != "" && r.Special == "" {
				t.Fatalf("%q: buses %q", p, r.Bus)
			}
		}
		if !strings.Contains(p, special) || !strings.Contains(p, r.Property) || !strings.Contains(p, r.Hub) {
			t.Fatalf("%q: %+v holds what the path does not", p, r)
		}
		if id, ok := CanonicalID(p); ok {
			if again, ok := CanonicalID(strings.ToLower(p)); !ok || again != id || len(id) != 14 {
				t.Fatalf("%q: id %q, in lower case %q, %v", p, id, again, ok)
			}
		}
	})
}
