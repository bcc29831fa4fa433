package cache

import (
	"testing"

	"github.com/owfuse/owfuse/owclient"
)

func TestValueKeysAreCanonical(t *testing.T) {
	want := valueKey(owclient.ParsePath("/28.000028D70100/temphigh"))
	if want != "v/28000028D70100/temphigh" {
		t.Fatalf("key %q, want v/28000028D70100/temphigh", want)
	}
	for _, p := range []string{
		"/28.000028d70100/temphigh", "/28000028D70100/temphigh", "/28.000028D70100.D5/temphigh",
		"/28000028d70100d5/temphigh", "/uncached/bus.0/28.000028D70100/temphigh", "/alarm/28.000028D70100/temphigh",
		"/1F.00001FE00500/main/28.000028d70100/temphigh",
	} {
		if got := valueKey(owclient.ParsePath(p)); got != want {
			t.Errorf("valueKey(%q) = %q, want %q", p, got, want)
		}
	}
	// A hub's branch keys its simultaneous/ by the hub's id too.
	if a, b := valueKey(owclient.ParsePath("/1f00001fe00500/main/simultaneous/temperature")), valueKey(owclient.ParsePath("/bus.0/1F.00001FE00500/main/simultaneous/temperature")); a != b {
		t.Errorf("one hub branch's simultaneous/temperature under the keys %q and %q", a, b)
	}
	for p, other := range map[string]string{
		"/lounge/temphigh":                               "/Lounge/temphigh", // aliases as they are
		"/bus.0/interface/settings/name":                 "/bus.1/interface/settings/name",
		"/1F.00001FE00500/main/simultaneous/temperature": "/simultaneous/temperature",
		"/1F.00001FE00500/aux/simultaneous/temperature":  "/1F.00001FE00500/main/simultaneous/temperature",
	} {
		if a, b := valueKey(owclient.ParsePath(p)), valueKey(owclient.ParsePath(other)); a == b {
			t.Errorf("%s and %s share the key %q", p, other, a)
		}
	}
}
