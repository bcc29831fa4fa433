package owclient_test

import (
	"strings"
	"testing"

	"github.com/owfuse/owfuse/owclient"
)

func TestParseStructure(t *testing.T) {
	cases := []struct {
		line string
		want owclient.Structure
	}{
		{"t,000000,000001,ro,000012,v,", owclient.Structure{Type: 't', Index: 0, Elements: 1, Access: owclient.ReadOnly, Size: 12, Change: owclient.Volatile}},
		{"y,-000002,000002,rw,000012,s,", owclient.Structure{Type: 'y', Index: -2, Elements: 2, Access: owclient.ReadWrite, Size: 12, Change: owclient.Stable}},
		{"b,000000,-000001,wo,000008,s,", owclient.Structure{Type: 'b', Index: 0, Elements: -1, Access: owclient.WriteOnly, Size: 8, Change: owclient.Stable}},
		{"D,000000,000001,oo,000008,v,", owclient.Structure{Type: 'D', Elements: 1, Access: owclient.NoAccess, Size: 8, Change: owclient.Volatile}},
		{"u,000000,000001,rw,000012,t,\n", owclient.Structure{Type: 'u', Elements: 1, Access: owclient.ReadWrite, Size: 12, Change: owclient.Timer}},
	}
	for _, tc := range cases {
		got, err := owclient.ParseStructure(tc.line)
		if err != nil || got != tc.want {
			t.Errorf("ParseStructure(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
		if err == nil && got.String() != strings.TrimSpace(tc.line) {
			t.Errorf("String() = %q, want %q", got.String(), tc.line)
		}
	}
	for _, bad := range []string{"", "t,000000,000001,ro,000012", "x,000000,000001,ro,000012,v,", "t,0a,000001,ro,000012,v,",
		"t,000000,000001,xx,000012,v,", "t,000000,000001,ro,000012,q,", "t,000000,000001,ro,-000012,v,"} {
		if _, err := owclient.ParseStructure(bad); err == nil {
			t.Errorf("ParseStructure(%q) accepted a bad line", bad)
		}
	}
	s, _ := owclient.ParseStructure("l,000000,000001,rw,000256,s,")
	if !s.Readable() || !s.Writable() || s.IsDir() {
		t.Errorf("alias line: readable %v writable %v dir %v", s.Readable(), s.Writable(), s.IsDir())
	}
}

func TestFlagHelpers(t *testing.T) {
	f := owclient.FlagOwnet.WithTempScale(owclient.Rankine).WithPressureScale(owclient.Pascal).WithDeviceFormat(owclient.FormatFIC)
	if f != 0x05000000|0x140000|0x30000|0x100 {
		t.Fatalf("flags %#x", uint32(f))
	}
	if f.TempScale() != owclient.Rankine || f.PressureScale() != owclient.Pascal || f.DeviceFormat() != owclient.FormatFIC {
		t.Fatalf("decoded %v %v %v", f.TempScale(), f.PressureScale(), f.DeviceFormat())
	}
	if f.WithTempScale(owclient.Celsius).TempScale() != owclient.Celsius {
		t.Fatal("WithTempScale did not clear the old scale")
	}
	for in, want := range map[string]owclient.TempScale{"F": owclient.Fahrenheit, "kelvin": owclient.Kelvin, "c": owclient.Celsius} {
		if got, err := owclient.ParseTempScale(in); err != nil || got != want {
			t.Errorf("ParseTempScale(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := owclient.ParseTempScale("X"); err == nil {
		t.Error("ParseTempScale accepted X")
	}
	if got, err := owclient.ParseDeviceFormat("f.i.c"); err != nil || got != owclient.FormatFDIDC {
		t.Errorf("ParseDeviceFormat(f.i.c) = %v, %v", got, err)
	}
	if got, err := owclient.ParsePressureScale("inHg"); err != nil || got != owclient.InchHg {
		t.Errorf("ParsePressureScale(inHg) = %v, %v", got, err)
	}
}

// The words are what user.owfs.change shows and metrics label: renaming
// one breaks scripts that read them.
func TestChangeClassString(t *testing.T) {
	for c, want := range map[owclient.ChangeClass]string{
		owclient.Fixed: "fixed", owclient.Stable: "stable", owclient.Volatile: "volatile", owclient.Timer: "timer", 'x': "unknown", 0: "unknown",
	} {
		if got := c.String(); got != want {
			t.Errorf("ChangeClass(%q).String() = %q, want %q", byte(c), got, want)
		}
	}
}
