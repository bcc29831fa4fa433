package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseHelperArgs(t *testing.T) {
	cases := []struct {
		args []string
		want helperArgs
		err  string
	}{
		{[]string{"localhost:4304", "/mnt/1wire", "-o", "ro,allow_other"},
			helperArgs{Source: "localhost:4304", Mountpoint: "/mnt/1wire", Options: []string{"ro,allow_other"}}, ""},
		{[]string{"h:1", "/m", "-s", "-n", "-v", "-o", "rw"},
			helperArgs{Source: "h:1", Mountpoint: "/m", Options: []string{"rw"}, Verbose: true}, ""},
		{[]string{"h:1", "/m", "-f", "-o", "rw"},
			helperArgs{Source: "h:1", Mountpoint: "/m", Options: []string{"rw"}, Fake: true}, ""},
		{[]string{"h:1", "/m", "-snfv", "-N", "/proc/1/ns/mnt", "-ouid=5"},
			helperArgs{Source: "h:1", Mountpoint: "/m", Options: []string{"uid=5"}, Fake: true, Verbose: true}, ""},
		{[]string{"-o", "ro", "h:1", "/m"},
			helperArgs{Source: "h:1", Mountpoint: "/m", Options: []string{"ro"}}, ""},
		{[]string{"h:1"}, helperArgs{}, `got ["h:1"]`},
		{[]string{"h:1", "/m", "--bogus"}, helperArgs{}, "unknown option --bogus"},
		{[]string{"h:1", "/m", "/x"}, helperArgs{}, `got ["h:1" "/m" "/x"]`},
		{[]string{"h:1", "/m", "-o"}, helperArgs{}, "needs a value"},
		{[]string{"h:1", "/m", "-q"}, helperArgs{}, "unknown helper flag -q"},
	}
	for _, tc := range cases {
		got, err := parseHelperArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseHelperArgs(%q) error %v, want one containing %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseHelperArgs(%q) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}

// FuzzParseHelperArgs feeds arbitrary helper command lines to the parser:
// errors are fine; panics, and a mount without its two operands, are not.
func FuzzParseHelperArgs(f *testing.F) {
	for _, s := range []string{"h:1 /m -o ro,allow_other", "h:1 /m -snfv -N /proc/1/ns/mnt -ouid=5", "-o", "h:1 /m --bogus", "a b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		if h, err := parseHelperArgs(args); err == nil && (h.Source == "" || h.Mountpoint == "") {
			t.Fatalf("%q: helper args without both operands accepted: %+v", args, h)
		}
	})
}
