package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient/owshell"
)

// runProgram runs owfuse as ow-shell's program name, the verb it stands
// for, with ow-shell's options: every program takes all of them, and
// those that mean nothing to it are dropped, as ow-shell drops them.
func runProgram(ctx context.Context, name, verb string, args []string, stdout, stderr io.Writer) int {
	app := newApp(name, stdout, stderr)
	cmd := findCommand(app.Commands, verb)
	cmd.UsageText = name + " [options] " + cmd.ArgsUsage // not "owread read"
	if verb == "present" {
		cmd.Usage = "print 1 or 0 for each path, without a newline, like owpresent; exit status 1 if the last is absent"
	}
	var every []cli.Flag
	for _, v := range owshell.Programs() {
		every = append(every, findCommand(app.Commands, v).Flags...)
	}
	p := owshell.Parser{Flags: append(cmd.Flags, cli.VersionFlag), Shorthands: owshell.Shorthands(), Ignored: every}
	flags, operands, err := p.Rewrite(args[1:])
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (see %s --help)\n", name, err, name)
		return owshell.ExitError
	}
	if slices.Contains(flags, "--version") {
		fmt.Fprintf(stdout, "%s (owfuse) %s\n", name, version())
		return owshell.ExitOK
	}
	if slices.Contains(flags, "--help") {
		flags, operands = []string{"--help"}, nil
	}
	code, err := execute(ctx, app, slices.Concat(args[:1:1], []string{verb}, flags, []string{"--"}, operands), stderr)
	var f *owshell.Failure
	if code == owshell.ExitOK || errors.As(err, &f) && !f.LastFailed {
		return owshell.ExitOK // ow-shell's programs exit with their last path's status
	}
	return owshell.ExitError // and know only 0 and 1
}
