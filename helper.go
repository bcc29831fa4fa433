package main

import (
	"fmt"
	"strings"
)

// helperArgs is a mount helper's command line, as mount(8) passes it to
// /sbin/mount.owfuse and mount.fuse3 to `owfuse` for -t fuse.owfuse:
// SOURCE MOUNTPOINT [-s] [-n] [-v] [-f] [-N NS] [-o OPTIONS], with the
// options after the positional arguments.
type helperArgs struct {
	Source, Mountpoint string
	Options            []string // the -o lists, in order
	Fake               bool     // -f: mount(8)'s "fake": do everything but mount
	Verbose            bool     // -v
}

// parseHelperArgs parses a helper's arguments (without the program name).
// -s (sloppy) and -n (no mtab) are accepted and change nothing here.
//
// It is not owshell.Parser, which reads people's command lines: that one
// ends the options at "--", takes --f and --o for -f and -o and any
// unambiguous prefix of a long name, and reads -5 as an operand; the
// helper's protocol is mount(8)'s fixed set of short options, where each
// of those is an error, and the -o lists are kept whole for `owfuse
// mount` to read.
func parseHelperArgs(args []string) (helperArgs, error) {
	var h helperArgs
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "-N" || a == "-t":
			if i+1 >= len(args) {
				return h, fmt.Errorf("%s needs a value", a)
			}
			i++
			if a == "-o" {
				h.Options = append(h.Options, args[i])
			}
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			h.Options = append(h.Options, a[2:])
		case strings.HasPrefix(a, "--"):
			return h, fmt.Errorf("unknown option %s (mount passes -o OPTIONS)", a)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for _, f := range a[1:] {
				switch f {
				case 'f':
					h.Fake = true
				case 'v':
					h.Verbose = true
				case 's', 'n':
				default:
					return h, fmt.Errorf("unknown helper flag -%c", f)
				}
			}
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 2 {
		return h, fmt.Errorf("want SOURCE MOUNTPOINT [-o OPTIONS], got %q", pos)
	}
	h.Source, h.Mountpoint = pos[0], pos[1]
	return h, nil
}
