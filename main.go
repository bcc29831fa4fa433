// Command owfuse mounts OWFS's owserver, the 1-Wire bus daemon (TCP port
// 4304), as a filesystem, and talks to it from the shell with ow-shell's
// verbs (package owshell). It reads its command line three ways: as
// `owfuse VERB …`; as ow-shell's owdir, owread, owwrite, owget or
// owpresent when called by those names; and as a mount helper when mount(8)
// runs it as mount.owfuse or mount.fuse3 runs `owfuse SOURCE MOUNTPOINT -o
// OPTIONS`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient/owshell"
)

// Exit codes of mount(8)'s helpers (mount(8), RETURN CODES), which mount(8)
// and systemd read; `owfuse mount` keeps owshell's sysexits codes.
const (
	mountUsage   = 1  // incorrect invocation
	mountFailure = 32 // mount failure
)

func main() {
	// ow-shell's programs print their version for -V; -v stays free.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version", DisableDefaultText: true}
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code. Every
// failure is reported here, as one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := filepath.Base(args[0])
	switch verb, program := owshell.Programs()[name]; {
	case strings.HasPrefix(name, "mount."):
		return runHelper(ctx, args, stdout, stderr)
	case program:
		return runProgram(ctx, name, verb, args, stdout, stderr)
	case isFuseHelperCall(args):
		return runHelper(ctx, args, stdout, stderr)
	}
	argv, err := rewrite(args)
	if err != nil {
		fmt.Fprintf(stderr, "owfuse: %v\n", err)
		return owshell.ExitUsage
	}
	code, _ := execute(ctx, newApp("owfuse", stdout, stderr), argv, stderr)
	return code
}

// buildVersion is set by make build (-ldflags -X), from git.
var buildVersion string

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
