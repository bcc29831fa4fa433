package owfs

import (
	"testing"
	"unsafe"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// TestPropNodeSize pins the size of a file's node: a walk of a
// 1,000-device bus keeps 45,000 of them. 160 bytes is a Go size class
// (the next are 176 and 192): a field more costs 16 bytes a file.
func TestPropNodeSize(t *testing.T) {
	if n := unsafe.Sizeof(propNode{}); n > 160 {
		t.Errorf("propNode is %d bytes, want at most 160", n)
	}
}

// TestPropInfoShared checks that files of one name and property share
// their propInfo, and that the name kept is not the caller's string.
func TestPropInfoShared(t *testing.T) {
	f := &FS{}
	st := cache.Property{Structure: owclient.Structure{Type: 't', Elements: 1, Access: owclient.ReadOnly, Size: 12, Change: owclient.Volatile}, Known: true, Class: owclient.Volatile, InDevice: true}
	listing := "/10.67C6697351FF/temperature"
	a := f.propInfoFor(listing[len("/10.67C6697351FF/"):], st)
	b := f.propInfoFor("temperature", st)
	if a != b {
		t.Errorf("two temperatures of one family have different propInfos")
	}
	if unsafe.StringData(a.name) == unsafe.StringData(listing[len("/10.67C6697351FF/"):]) {
		t.Errorf("propInfo keeps the caller's string, and with it the whole listing")
	}
	other := st
	other.Structure.Access = owclient.ReadWrite
	if c := f.propInfoFor("temperature", other); c == a || c.prop != other {
		t.Errorf("another structure line shares a propInfo: %+v", c.prop)
	}
	for i := range 2 * maxPropInfos {
		f.propInfoFor(string(rune('a'+i%26))+string(rune(i)), st)
	}
	if len(f.infos) > maxPropInfos {
		t.Errorf("%d propInfos kept, want at most %d", len(f.infos), maxPropInfos)
	}
}
