package mountlib_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/owfuse/owfuse/owfs/mountlib"
)

// With hide_special the root lists devices only, yet owserver's own
// directories can still be entered by name, as scripts written for a
// mount without the option do; and a device answers to every spelling of
// its id that owserver takes, listed or not.
func TestHiddenNamesLookUp(t *testing.T) {
	cfg := mountlib.DefaultConfig()
	cfg.HideSpecial = true
	m, _ := testMount(t, cfg, "--fake", "10")
	es, err := os.ReadDir(m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"10.67C6697351FF"}) {
		t.Fatalf("root lists %q with hide_special, want the device only", names)
	}
	for _, name := range []string{"settings", "uncached", "structure", "statistics", "system", "simultaneous", "alarm",
		"10.67c6697351ff", "1067C6697351FF", "uncached/10.67C6697351FF"} {
		if fi, err := os.Stat(filepath.Join(m.Dir, name)); err != nil || !fi.IsDir() {
			t.Errorf("stat %s: %v, %v; want a directory", name, fi, err)
		}
	}
	for _, name := range []string{"json", "10.67C6697351FE", "10.67C6697351F"} {
		if _, err := os.Stat(filepath.Join(m.Dir, name)); !os.IsNotExist(err) {
			t.Errorf("stat %s: %v, want no such file", name, err)
		}
	}
}
