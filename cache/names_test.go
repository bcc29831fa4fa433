package cache

import "testing"

func TestLocateNames(t *testing.T) {
	for _, c := range []struct {
		path string
		want location
	}{
		{"/10.67C6697351FF/temperature", location{device: "/10.67C6697351FF", family: "10", property: "temperature"}},
		{"/uncached/bus.0/28.000028d70100/temphigh", location{uncached: true, device: "/uncached/bus.0/28.000028d70100", family: "28", property: "temphigh"}},
		{"/kitchen/temperature", location{device: "/kitchen", property: "temperature"}},
		{"/bus.0", location{top: "bus.0"}},
		{"/uncached", location{top: "uncached"}},
		// The bus master's own directory, not a device aliased "interface".
		{"/bus.0/interface/settings/name", location{top: "bus.0/interface", property: "settings/name"}},
		{"/uncached/bus.1/interface", location{uncached: true, top: "bus.1/interface"}},
		// An alias "interface" at the root is a device.
		{"/interface/temperature", location{device: "/interface", property: "temperature"}},
		// Behind a hub the device is the last one in the path.
		{"/1F.00001FE00500/main/10.000010EF0000/temperature", location{device: "/1F.00001FE00500/main/10.000010EF0000", family: "10", property: "temperature"}},
		{"/bus.0/1F.00001FE00500/aux/lounge/errata/die", location{device: "/bus.0/1F.00001FE00500/aux/lounge", property: "errata/die"}},
		{"/hub/main/1F.00001FE00600/aux/28.000028D70100", location{device: "/hub/main/1F.00001FE00600/aux/28.000028D70100", family: "28"}},
		{"/1F.00001FE00500/main", location{device: "/1F.00001FE00500", family: "1F", property: "main"}},
		{"/1F.00001FE00500/main/alarm/28.000028D70100/temperature", location{device: "/1F.00001FE00500/main/alarm/28.000028D70100", family: "28", property: "temperature"}},
		{"/1f00001fe00500/main/simultaneous/temperature", location{top: "simultaneous", hub: "1F00001FE00500/main", property: "temperature"}},
		{"/structure/1F/main", location{top: "structure", property: "1F/main"}},
		{"/", location{}},
	} {
		if got := locate(c.path); got != c.want {
			t.Errorf("locate(%q) = %+v, want %+v", c.path, got, c.want)
		}
	}
}

func TestHoldsDevices(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/uncached": true, "/bus.0": true, "/uncached/bus.0": true, "/alarm": true, "/bus.0/alarm": true,
		"/1F.00001FE00500/main": true, "/hub/aux": true, "/uncached/1F.00001FE00500/main/1F.00001FE00600/aux": true,
		"/10.000010EF0000": false, "/bus.0/interface": false, "/settings": false, "/structure": false,
		"/structure/1F": false, "/1F.00001FE00500/main/10.000010EF0000": false, "/10.000010EF0000/errata": false,
		"/statistics": false, "/system": false, "/simultaneous": false,
	} {
		if got := HoldsDevices(p); got != want {
			t.Errorf("HoldsDevices(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestValueKeysAreCanonical(t *testing.T) {
	want := valueKey(locate("/28.000028D70100/temphigh"))
	if want != "v/28000028D70100/temphigh" {
		t.Fatalf("key %q, want v/28000028D70100/temphigh", want)
	}
	for _, p := range []string{
		"/28.000028d70100/temphigh", "/28000028D70100/temphigh", "/28.000028D70100.D5/temphigh",
		"/28000028d70100d5/temphigh", "/uncached/bus.0/28.000028D70100/temphigh", "/alarm/28.000028D70100/temphigh",
		"/1F.00001FE00500/main/28.000028d70100/temphigh",
	} {
		if got := valueKey(locate(p)); got != want {
			t.Errorf("valueKey(%q) = %q, want %q", p, got, want)
		}
	}
	for p, other := range map[string]string{
		"/lounge/temphigh":                               "/Lounge/temphigh", // aliases as they are
		"/bus.0/interface/settings/name":                 "/bus.1/interface/settings/name",
		"/1F.00001FE00500/main/simultaneous/temperature": "/simultaneous/temperature",
		"/1F.00001FE00500/aux/simultaneous/temperature":  "/1F.00001FE00500/main/simultaneous/temperature",
	} {
		if a, b := valueKey(locate(p)), valueKey(locate(other)); a == b {
			t.Errorf("%s and %s share the key %q", p, other, a)
		}
	}
}
