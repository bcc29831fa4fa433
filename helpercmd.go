package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/owfuse/owfuse/owclient/owshell"
)

// isFuseHelperCall reports whether args are mount.fuse3's call for
// -t fuse.owfuse: `owfuse SOURCE MOUNTPOINT -o OPTIONS` (it always passes
// options, adding dev,suid). A verb, or a near miss of one, is a verb:
// `owfuse moutn pi /mnt -o ro` is a typo, not a mount of "moutn".
func isFuseHelperCall(args []string) bool {
	h, err := parseHelperArgs(args[1:])
	if err != nil || len(h.Options) == 0 {
		return false
	}
	names := verbNames(commands())
	return !slices.Contains(append(names, "help"), h.Source) && owshell.Suggest(h.Source, names) == ""
}

// runHelper mounts as mount(8) asks: SOURCE MOUNTPOINT [-s] [-n] [-v]
// [-f] -o OPTIONS, returning once the mount answers, with mount(8)'s exit
// codes.
func runHelper(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if slices.Contains(args[1:], "-h") || slices.Contains(args[1:], "--help") {
		fmt.Fprintf(stdout, "usage: %s SERVER MOUNTPOINT [-s] [-n] [-v] [-f] [-o OPTION[,OPTION...]]\n"+
			"mount(8)'s helper for -t owfuse; the options are owfuse mount's (owfuse mount --help, man mount.owfuse).\n", filepath.Base(args[0]))
		return owshell.ExitOK
	}
	h, err := parseHelperArgs(args[1:])
	if err != nil {
		fmt.Fprintf(stderr, "owfuse: %v\n", err)
		return mountUsage
	}
	argv := []string{args[0], "mount"}
	for _, list := range h.Options {
		argv = append(argv, "-o", list)
	}
	// Last, so that no -o daemon=false keeps mount(8) waiting for ever.
	argv = append(argv, "--daemon")
	if h.Fake { // mount -f: check the arguments, mount nothing
		argv = append(argv, "--fake")
	}
	argv, err = rewrite(append(argv, "--", h.Source, h.Mountpoint))
	if err != nil {
		fmt.Fprintf(stderr, "owfuse: %v\n", err)
		return mountUsage
	}
	switch code, _ := execute(ctx, newApp("mount.owfuse", io.Discard, stderr), argv, stderr); code {
	case owshell.ExitOK:
		return code
	case owshell.ExitUsage:
		return mountUsage
	default:
		return mountFailure
	}
}
