package cache

import (
	"strings"
	"testing"
	"unsafe"
)

// TestParseListingCopiesNames checks that a parsed listing keeps its
// names in a string of their own, not the listing owserver sent (which
// repeats the directory's path in every entry), and that of a name
// listed twice the first is kept.
func TestParseListingCopiesNames(t *testing.T) {
	sent := "/10.67C6697351FF/temperature,/10.67C6697351FF/errata/,/10.67C6697351FF/address,/10.67C6697351FF/errata"
	entries := parseListing(strings.Split(sent, ","))
	want := []Entry{{"address", false}, {"errata", true}, {"temperature", false}}
	if len(entries) != len(want) {
		t.Fatalf("got %v, want %v", entries, want)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(sent)))
	for i, e := range entries {
		if e != want[i] {
			t.Errorf("entry %d: got %v, want %v", i, e, want[i])
		}
		if p := uintptr(unsafe.Pointer(unsafe.StringData(e.Name))); p >= start && p < start+uintptr(len(sent)) {
			t.Errorf("%q is part of the listing sent, which it keeps alive", e.Name)
		}
	}
}
