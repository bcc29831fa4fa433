package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient/owshell"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// commands are owfuse's verbs: the toolbox's, mount and man.
func commands() []*cli.Command {
	return append(owshell.Commands(), mountCommand(), manCommand())
}

// findCommand returns the verb called name, or nil.
func findCommand(cmds []*cli.Command, name string) *cli.Command {
	if i := slices.IndexFunc(cmds, func(c *cli.Command) bool { return c.Name == name }); i >= 0 {
		return cmds[i]
	}
	return nil
}

// newApp is owfuse's command line, called name: owfuse, mount.owfuse or
// one of ow-shell's names, whose usage errors point at its own help.
func newApp(name string, stdout, stderr io.Writer) *cli.App {
	cmds := commands()
	for _, c := range cmds {
		// "help" is rewrite's business: cli would take a path named h or
		// help after any verb for a help topic.
		c.HideHelpCommand = true
		switch {
		case name == "owfuse":
			c.OnUsageError = usageError("owfuse " + c.Name + " --help")
		case strings.HasPrefix(name, "mount."):
			c.OnUsageError = usageError("man mount.owfuse")
		default:
			c.OnUsageError = usageError(name + " --help")
		}
	}
	return &cli.App{
		Name:            name,
		HideHelpCommand: true,
		Usage:           "mount OWFS's owserver as a filesystem; and the ow-shell toolbox (owdir, owread, owwrite, owget, owpresent)",
		Version:         version(),
		Commands:        cmds,
		// Shown in the help, since they may come before the verb; rewrite
		// moves them after it, where the verb parses them.
		Flags:          owshell.ServerFlags(),
		Action:         noVerb,
		Writer:         stdout,
		ErrWriter:      stderr,
		OnUsageError:   usageError(name + " --help"),
		ExitErrHandler: func(*cli.Context, error) {}, // execute reports errors; cli must not exit
	}
}

// execute runs app on a rewritten command line and turns its error into
// one line on stderr and an exit code.
func execute(ctx context.Context, app *cli.App, argv []string, stderr io.Writer) (int, error) {
	err := app.RunContext(ctx, argv)
	if err == nil {
		return owshell.ExitOK, nil
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := ec.Error(); msg != "" {
			fmt.Fprintln(stderr, msg)
		}
		return ec.ExitCode(), err
	}
	// What cli itself rejects, such as --version=maybe.
	fmt.Fprintf(stderr, "owfuse: %s\n", flagError(err))
	return owshell.ExitUsage, err
}

// rewrite puts a command line in the form cli parses: the verb, its flags
// (wherever they stood, before or after the verb and between operands),
// "--", its operands. An unknown verb is a usage error naming the verbs.
func rewrite(args []string) ([]string, error) {
	cmds := commands()
	var all []cli.Flag
	for _, c := range cmds {
		all = append(all, c.Flags...)
	}
	all = append(all, cli.VersionFlag)
	// The first pass reads the options before the verb, those every verb
	// takes, and finds the verb; -o is kept as a flag for the second
	// pass, which knows whether the verb takes it. What follows the verb
	// is left for the second, which knows its options: mount's -f is not
	// the toolbox's --format.
	first := owshell.Parser{Flags: all, Shorthands: owshell.Shorthands(), UntilOperand: true,
		OptionList: func(list string) ([]string, error) { return []string{"-o" + list}, nil }}
	flags, operands, err := first.Rewrite(args[1:])
	if err != nil {
		return nil, fmt.Errorf("%w (see owfuse --help)", err)
	}
	switch {
	case slices.Contains(flags, "--version"):
		return []string{args[0], "--version"}, nil
	case len(operands) == 0 && len(flags) > 0 && !slices.Contains(flags, "--help"):
		return nil, fmt.Errorf("no verb for %s (commands: %s; see owfuse --help)", strings.Join(flags, " "), strings.Join(verbNames(cmds), ", "))
	case len(operands) == 0:
		return append(args[:1:1], flags...), nil // owfuse [--help]
	}
	verb, rest := operands[0], operands[1:]
	if verb == "--" && len(rest) > 0 {
		// "owfuse -- read -x": what follows -- is operands, also past
		// the verb.
		verb, rest = rest[0], append([]string{"--"}, rest[1:]...)
	}
	if verb == "help" {
		switch {
		case len(rest) == 0:
			return []string{args[0], "--help"}, nil
		case findCommand(cmds, rest[0]) == nil:
			return nil, unknownVerb(rest[0], cmds)
		}
		return []string{args[0], rest[0], "--help"}, nil
	}
	cmd := findCommand(cmds, verb)
	if cmd == nil {
		return nil, unknownVerb(verb, cmds)
	}
	p := owshell.Parser{Flags: append(cmd.Flags, cli.VersionFlag), Shorthands: owshell.Shorthands()}
	if verb == "mount" {
		p.OptionList = mountlib.OptionFlags
		p.Shorthands = nil
	}
	flags, operands, err = p.Rewrite(append(flags, rest...))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w (see owfuse %s --help)", verb, err, verb)
	case slices.Contains(flags, "--version"):
		return []string{args[0], "--version"}, nil
	case slices.Contains(flags, "--help"):
		// owread -h PATH is a request for help, not for help on PATH.
		return []string{args[0], verb, "--help"}, nil
	}
	return slices.Concat(args[:1:1], []string{verb}, flags, []string{"--"}, operands), nil
}

// verbNames are the verbs to name in messages.
func verbNames(cmds []*cli.Command) []string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

func unknownVerb(verb string, cmds []*cli.Command) error {
	names := verbNames(cmds)
	hint := ""
	if s := owshell.Suggest(verb, names); s != "" {
		hint = fmt.Sprintf("; did you mean %q?", s)
	}
	return fmt.Errorf("unknown command %q%s (commands: %s; see owfuse --help)", verb, hint, strings.Join(names, ", "))
}

// noVerb is the action of owfuse without a verb.
func noVerb(c *cli.Context) error {
	cli.ShowAppHelp(c)
	return cli.Exit("", owshell.ExitUsage)
}

// usageError reports a flag that cli could not parse, and where to look.
func usageError(hint string) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		return owshell.UsageErrorf("%s (see %s)", flagError(err), hint)
	}
}

// flagErrorText matches what Go's flag package says of a bad value. The
// options' values are owopt's to check; what is left to cli are switches
// of its own, such as --version=maybe.
var flagErrorText = regexp.MustCompile(`^invalid (boolean )?value ("[^"]*") for (?:flag )?-+([^:]+): (.*)$`)

// flagError rewords Go's flag errors ("invalid boolean value "x" for
// -version: parse error") for people: the option as they type it, and
// what kind of value it wants.
func flagError(err error) string {
	m := flagErrorText.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	why := m[4]
	if m[1] != "" {
		why = "want true or false"
	}
	return fmt.Sprintf("invalid value %s for --%s: %s", m[2], m[3], why)
}
