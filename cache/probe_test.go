package cache_test

import (
	"testing"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// On a server that lists without slashes (--no_dirall: MSG_DIR only), the
// cache tells files from directories by structure lines, read once per
// family and property: listing eight devices of one family costs about
// what listing one does, not a read per entry.
func TestProbeByStructure(t *testing.T) {
	c := realCache(t, "10,10,10,10,10,10,10,10", "--no_dirall")
	root, err := c.Dir(bg, "/")
	if err != nil {
		t.Fatal(err)
	}
	var devices []string
	for _, e := range root {
		if owclient.IsDeviceName(e.Name) {
			devices = append(devices, "/"+e.Name)
		}
	}
	if len(devices) != 8 {
		t.Fatalf("root lists %d devices, want 8: %v", len(devices), root)
	}
	reads := func() uint64 { return c.Stats().ReadMessages }
	list := func(dev string) (entries []cache.Entry, n uint64) {
		before := reads()
		es, err := c.Dir(bg, dev)
		if err != nil {
			t.Fatal(err)
		}
		return es, reads() - before
	}
	first, n1 := list(devices[0])
	isDir := map[string]bool{}
	for _, e := range first {
		isDir[e.Name] = e.IsDir
	}
	if !isDir["errata"] || isDir["temperature"] || isDir["alias"] {
		t.Errorf("types from structure lines: errata %v, temperature %v, alias %v; want true, false, false", isDir["errata"], isDir["temperature"], isDir["alias"])
	}
	var rest uint64
	for _, dev := range devices[1:] {
		es, n := list(dev)
		rest += n
		if len(es) != len(first) {
			t.Errorf("%s lists %d entries, %s %d", dev, len(es), devices[0], len(first))
		}
	}
	t.Logf("FIGURE reads to tell files from directories: %d for the first device, %d for the 7 others", n1, rest)
	if rest != 0 {
		t.Errorf("%d reads for 7 more devices of the family, want 0 (one read per entry before)", rest)
	}
}
