package cache

import (
	"sort"
	"strings"
	"testing"

	"github.com/owfuse/owfuse/owclient"
)

// FuzzParseListing checks that any directory list owserver might send
// becomes sorted, unique, non-empty names without slashes.
func FuzzParseListing(f *testing.F) {
	for _, s := range []string{
		"/10.67C6697351FF/,/05.4AEC29CDBAAB/,/bus.0/,/uncached/,/settings/",
		"/10.67C6697351FF/address,/10.67C6697351FF/errata/,/10.67C6697351FF/temperature",
		"/10.67C6697351FF,/10.67C6697351FF", "", ",", "/", "//,/a//", "/a/../b,/./,/..",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries := parseListing(strings.Split(s, ","))
		if !sort.SliceIsSorted(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name }) {
			t.Fatalf("not sorted: %v", entries)
		}
		for i, e := range entries {
			if e.Name == "" || e.Name == "." || e.Name == ".." || strings.Contains(e.Name, "/") {
				t.Fatalf("bad name %q from %q", e.Name, s)
			}
			if i > 0 && entries[i-1].Name == e.Name {
				t.Fatalf("duplicate %q from %q", e.Name, s)
			}
		}
	})
}

// FuzzParseAliasList checks that whatever owserver's alias list holds,
// only well-formed device ids come out of it, as the names that replace
// unusable aliases in listings.
func FuzzParseAliasList(f *testing.F) {
	for _, s := range []string{"10000010EF00005B=kitchen\r\n28000028D70100D5=a\xffb\r\n", "", "=\r\n", "10000010EF00005B=", "zz000010EF00005B=x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for alias, id := range parseAliasList([]byte(s)) {
			if !owclient.IsDeviceName(id) || len(id) != 15 || id[2] != '.' || !usableName(id) {
				t.Fatalf("id %q for alias %q from %q", id, alias, s)
			}
		}
	})
}
