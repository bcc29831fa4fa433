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
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient/owshell"
	"github.com/owfuse/owfuse/owfs"
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
	switch verb, program := owshell.Programs[name]; {
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
	// What cli itself rejects, such as an unparsable OWFUSE_* variable.
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
	first := owshell.Parser{Flags: all, Shorthands: owshell.Shorthands, UntilOperand: true,
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
	p := owshell.Parser{Flags: append(cmd.Flags, cli.VersionFlag), Shorthands: owshell.Shorthands}
	if verb == "mount" {
		p.OptionList = owfs.OptionFlags
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
	for _, v := range owshell.Programs {
		every = append(every, findCommand(app.Commands, v).Flags...)
	}
	p := owshell.Parser{Flags: append(cmd.Flags, cli.VersionFlag), Shorthands: owshell.Shorthands, Ignored: every}
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

// isFuseHelperCall reports whether args are mount.fuse3's call for
// -t fuse.owfuse: `owfuse SOURCE MOUNTPOINT -o OPTIONS` (it always passes
// options, adding dev,suid). A verb, or a near miss of one, is a verb:
// `owfuse moutn pi /mnt -o ro` is a typo, not a mount of "moutn".
func isFuseHelperCall(args []string) bool {
	h, err := owfs.ParseHelperArgs(args[1:])
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
	h, err := owfs.ParseHelperArgs(args[1:])
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

// flagErrorText matches what Go's flag package says of a bad value, and
// envErrorText what cli says of a bad OWFUSE_ variable.
var (
	flagErrorText = regexp.MustCompile(`^invalid (boolean )?value ("[^"]*") for (?:flag )?-+([^:]+): (.*)$`)
	envErrorText  = regexp.MustCompile(`^could not parse ("[^"]*") (?:as (\w+) value )?from environment variable "([^"]+)" (?:as value )?for flag ([^:]+): (.*)$`)
)

// flagError rewords Go's flag errors ("invalid value "x" for flag -size:
// parse error") for people: the option as they type it, and what kind
// of value it wants.
func flagError(err error) string {
	if m := envErrorText.FindStringSubmatch(err.Error()); m != nil {
		why := "want a " + m[2]
		switch m[2] {
		case "": // a flag value of owfuse's own, which says what it wants
			why = m[5]
		case "bool":
			why = "want true or false"
		case "duration":
			why = "want a duration such as 500ms, 30s or 2m"
		case "int", "int64", "uint", "uint64":
			why = "want a whole number"
		}
		return fmt.Sprintf("invalid value %s in $%s (--%s): %s", m[1], m[3], m[4], why)
	}
	m := flagErrorText.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	why := m[4]
	switch {
	case m[1] != "":
		why = "want true or false"
	case why == "parse error" && m[3] == "timeout":
		why = "want a duration such as 500ms, 30s or 2m"
	case why == "parse error":
		why = "want a whole number"
	case why == "value out of range":
		why = "out of range"
	}
	return fmt.Sprintf("invalid value %s for --%s: %s", m[2], m[3], why)
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

// settingFlag is one owfs.Setting as a flag value. It records the text
// given last, from the environment or the command line; the mount checks
// the values once all are read, so that a flag can correct a variable.
type settingFlag struct {
	name string
	raw  map[string]string
}

func (f settingFlag) Set(v string) error { f.raw[f.name] = v; return nil }
func (f settingFlag) String() string {
	if f.raw == nil {
		return ""
	}
	return f.raw[f.name]
}

// mountCommand is `owfuse mount`: one flag per owfs.Setting, each also an
// -o option and an OWFUSE_ variable.
func mountCommand() *cli.Command {
	raw := map[string]string{}
	var flags []cli.Flag
	for _, s := range owfs.Settings {
		env := []string{"OWFUSE_" + strings.ToUpper(s.Name)}
		if s.Bool {
			flags = append(flags, &cli.BoolFlag{Name: s.FlagName(), Usage: s.Usage, EnvVars: env,
				Value: s.Default() == "true", DisableDefaultText: s.Default() != "true"})
		} else {
			flags = append(flags, &cli.GenericFlag{Name: s.FlagName(), Usage: s.Usage, EnvVars: env,
				Value: settingFlag{s.Name, raw}, DefaultText: s.Default()})
		}
	}
	flags = append(flags,
		&cli.StringSliceFlag{Name: "o", Usage: "mount `OPTIONS`, comma-separated: the flags above with underscores (-o ro,temp_scale=F)"},
		&cli.BoolFlag{Name: "fake", Hidden: true, Usage: "check the command line, mount nothing (mount -f)"})
	return &cli.Command{
		Name:      "mount",
		Usage:     "serve owserver's tree at MOUNTPOINT until unmounted or interrupted",
		ArgsUsage: "SERVER MOUNTPOINT [-o OPTIONS]",
		Flags:     flags,
		Action: func(c *cli.Context) error {
			cfg := owfs.DefaultConfig()
			for _, s := range owfs.Settings {
				v, ok := raw[s.Name]
				if s.Bool {
					v, ok = strconv.FormatBool(c.Bool(s.FlagName())), c.IsSet(s.FlagName())
				}
				if !ok {
					continue
				}
				if err := s.Set(&cfg, v); err != nil {
					from := ""
					if env := "OWFUSE_" + strings.ToUpper(s.Name); os.Getenv(env) == v {
						from = " (from $" + env + ")"
					}
					return owshell.UsageErrorf("%v%s (see owfuse mount --help)", err, from)
				}
			}
			if c.NArg() != 2 {
				return owshell.UsageErrorf("mount needs SERVER and MOUNTPOINT, got %q (see owfuse mount --help)", c.Args().Slice())
			}
			if c.Bool("fake") {
				return nil
			}
			return serve(c.Context, c.Args().Get(0), c.Args().Get(1), cfg, c.App.ErrWriter)
		},
	}
}

// serve runs owfs.Serve and turns its error into one line and an exit
// code.
func serve(ctx context.Context, server, dir string, cfg owfs.Config, stderr io.Writer) error {
	err := owfs.Serve(ctx, server, dir, cfg, stderr)
	switch {
	case err == nil:
		return nil
	case owfs.IsUnreachable(err):
		return cli.Exit("owfuse: "+err.Error(), owshell.ExitUnreachable)
	}
	return cli.Exit("owfuse: "+err.Error(), owshell.ExitError)
}

// manCommand prints the man pages, owfuse(8) and mount.owfuse(8), made
// from the same commands and option table as the help; `make install`
// installs them.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:      "man",
		Usage:     "print a man page in roff: owfuse(8) (default) or mount.owfuse(8); make install installs both",
		ArgsUsage: "[owfuse|mount.owfuse]",
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return owshell.UsageErrorf("man takes one page name, got %q", c.Args().Slice())
			}
			var page string
			switch c.Args().First() {
			case "", "owfuse":
				page = ownManPage(newApp("owfuse", io.Discard, io.Discard))
			case "mount.owfuse":
				page = helperManPage()
			default:
				return owshell.UsageErrorf("no man page %q (owfuse or mount.owfuse)", c.Args().First())
			}
			_, err := c.App.Writer.Write(md2man.Render([]byte(page)))
			return err
		},
	}
}

// unquote splits a usage text into its `PLACEHOLDER` and the text without
// backquotes, as cli's help reads it.
func unquote(usage string) (placeholder, text string) {
	if _, rest, ok := strings.Cut(usage, "`"); ok {
		if name, _, ok := strings.Cut(rest, "`"); ok {
			return name, strings.ReplaceAll(usage, "`", "")
		}
	}
	return "", usage
}

// manFlag writes one flag as a man page definition list entry.
func manFlag(b *strings.Builder, f cli.Flag) {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return
	}
	if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
		return
	}
	placeholder, text := unquote(d.GetUsage())
	var names []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			names = append(names, `**-`+n+`**`)
		} else {
			names = append(names, `**--`+n+`**`)
		}
	}
	b.WriteString(strings.Join(names, ", "))
	if d.TakesValue() {
		if placeholder == "" {
			placeholder = "VALUE"
		}
		b.WriteString(" *" + placeholder + "*")
	}
	b.WriteString("\n: " + manEscape(strings.ReplaceAll(text, "…", "...")))
	if def := d.GetDefaultText(); def != "" && d.TakesValue() {
		b.WriteString(" (default: " + manEscape(def) + ")")
	}
	if env := d.GetEnvVars(); len(env) > 0 {
		b.WriteString(" [$" + strings.Join(env, ", $") + "]")
	}
	b.WriteString("\n\n")
}

// manEscape keeps markdown from reading option names as emphasis.
func manEscape(s string) string {
	return strings.NewReplacer("_", `\_`, "*", `\*`).Replace(s)
}

// manOptions writes the mount options as -o names, from owfs.Settings.
func manOptions(b *strings.Builder) {
	for _, s := range owfs.Settings {
		placeholder, text := unquote(s.Usage)
		b.WriteString("**" + manEscape(s.Name) + "**")
		if !s.Bool {
			b.WriteString("=*" + placeholder + "*")
		}
		b.WriteString("\n: " + manEscape(text))
		if def := s.Default(); def != "" && def != "false" {
			b.WriteString(" (default: " + manEscape(def) + ")")
		}
		b.WriteString(". Also **--" + s.FlagName() + "** and $OWFUSE\\_" + manEscape(strings.ToUpper(s.Name)) + ".\n\n")
	}
}

// ownManPage is owfuse(8): every verb with its options, the mount options,
// fstab, signals, exit codes and the threat model.
func ownManPage(app *cli.App) string {
	var b strings.Builder
	b.WriteString("% OWFUSE 8\n\n# NAME\n\nowfuse - " + app.Usage + "\n\n# SYNOPSIS\n\n")
	b.WriteString("**owfuse mount** [*OPTIONS*] *SERVER* *MOUNTPOINT* [**-o** *OPTION*[,*OPTION*...]]\n\n")
	b.WriteString("**owfuse** **dir**|**read**|**write**|**get**|**present**|**ping** [*OPTIONS*] [*PATH*...]\n\n")
	b.WriteString("**owdir**|**owread**|**owwrite**|**owget**|**owpresent** [*OPTIONS*] [*PATH*...]\n\n")
	b.WriteString(`# DESCRIPTION

**owfuse mount** serves the tree of OWFS's owserver, the 1-Wire bus daemon, at *MOUNTPOINT*: a directory per device, a file per property, read and written with any program. *SERVER* is host:port, host (port 4304) or a port on localhost. Values are cached for lifetimes that depend on how often they change (see the \_ttl options). The command stays in the foreground until the filesystem is unmounted or a signal ends it; with **--daemon**, or as **mount.owfuse**(8), it returns once the mount answers.

The other verbs are ow-shell's tools: **dir**, **read**, **write**, **get** and **present** print what **owdir**, **owread**, **owwrite**, **owget** and **owpresent** print for the same server and paths, byte for byte. Called by those names (a link to owfuse), owfuse behaves as those programs do, with their options. Options go anywhere on the line: before or after the verb, and between paths; **--** ends them, and a negative number is a value, not an option.

**-h**, **--help** after any verb prints its help, and **owfuse help** *VERB* the same; **-V**, **--version** prints the version.

ow-shell's long forms are taken too: **--Celsius**, **--Fahrenheit**, **--Kelvin**, **--Rankine** (for **-C**, **-F**, **-K**, **-R**), **--mbar**, **--atm**, **--mmHg**, **--inHg**, **--psi**, **--Pa** (for **--pressure-scale**) and **--hexadecimal** (for **--hex**); every long option may be shortened to an unambiguous prefix, as with GNU getopt. A failing path is reported and the next one tried, as ow-shell does; under ow-shell's names the exit status is that of the last path, and only 0 or 1.

# COMMANDS

`)
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n**owfuse %s** %s\n\n%s.\n\n", c.Name, c.Name, manEscape(c.ArgsUsage), manEscape(c.Usage))
		if c.Name == "man" || c.Name == "ping" && len(c.Flags) == len(owshell.ServerFlags()) {
			continue
		}
		if c.Name == "mount" {
			b.WriteString("Each mount option is also a flag (underscores become dashes) and an environment variable; see MOUNT OPTIONS. **-o** takes a comma-separated list of them.\n\n")
			continue
		}
		if c.Name == "dir" {
			b.WriteString("Options of every toolbox verb:\n\n")
			for _, f := range owshell.ServerFlags() {
				manFlag(&b, f)
			}
			b.WriteString("Options of dir:\n\n")
		}
		own := c.Flags[len(owshell.ServerFlags()):]
		if len(own) > 0 && c.Name != "dir" {
			fmt.Fprintf(&b, "Options of %s:\n\n", c.Name)
		}
		for _, f := range own {
			manFlag(&b, f)
		}
	}
	b.WriteString("# MOUNT OPTIONS\n\n")
	manOptions(&b)
	b.WriteString(`# FILES

**/etc/fstab**
: a line such as *localhost:4304 /mnt/1wire owfuse \_netdev,nofail,allow\_other,wait\_server=60s 0 0* mounts at boot; see **mount.owfuse**(8).

# SIGNALS

SIGINT and SIGTERM unmount and exit 0; calls still waiting for owserver end with EIO, and a busy mount is detached lazily, with a log line. SIGHUP drops every cache.

# EXIT STATUS

0 success; 1 owserver refused the request or sent nonsense, or the mount failed; 3 **present**: a path is absent; 64 usage: unknown verb or option, bad value, missing argument; 69 owserver unreachable or the connection dropped; 75 owserver did not answer within the timeout. As **mount.owfuse** the codes are mount(8)'s: 1 usage, 32 mount failure.

# SECURITY

The owserver protocol has no authentication and no encryption: whoever reaches its port reads every sensor and writes every writable property. Keep owserver on loopback or behind a firewall, or tunnel it over SSH. owfuse treats owserver as untrusted: malformed or oversized replies are errors, and memory stays bounded. Only the user who mounted can use the mount unless **allow\_other** is given; then the kernel checks the modes owfuse shows (only **uid** may write). Use **ro** when nobody should write.

# SEE ALSO

**mount.owfuse**(8), **owserver**(1), **owdir**(1), **mount**(8), **fuse**(8)
`)
	return b.String()
}

// helperManPage is mount.owfuse(8): mount(8)'s view of owfuse.
func helperManPage() string {
	var b strings.Builder
	b.WriteString(`% MOUNT.OWFUSE 8

# NAME

mount.owfuse - mount OWFS's owserver with mount(8) and /etc/fstab

# SYNOPSIS

**mount -t owfuse** *SERVER* *MOUNTPOINT* [**-o** *OPTION*[,*OPTION*...]]

**mount -t fuse.owfuse** *SERVER* *MOUNTPOINT* [**-o** *OPTION*[,*OPTION*...]]

**mount.owfuse** *SERVER* *MOUNTPOINT* [**-s**] [**-n**] [**-v**] [**-f**] [**-o** *OPTIONS*]

# DESCRIPTION

mount(8) runs **mount.owfuse** for **-t owfuse**; for **-t fuse.owfuse** mount.fuse3 runs *owfuse SERVER MOUNTPOINT -o OPTIONS*. Either way owfuse checks the options, waits until the mount answers and returns, leaving a detached process that serves it and logs to syslog (or **log\_file**). Relative paths are taken from the caller's directory. **-f** (mount's fake mode) checks the options and mounts nothing; **-s**, **-n** and **-v** are accepted.

*SERVER* is host:port, host (port 4304) or a port on localhost. **umount** *MOUNTPOINT* unmounts.

# FSTAB

    localhost:4304  /mnt/1wire  owfuse  _netdev,nofail,allow_other,wait_server=60s  0  0

**wait\_server** waits for owserver at boot; **lazy\_connect** mounts at once and answers EIO until owserver does; **\_netdev** orders the mount after the network and **nofail** keeps the boot going if it fails.

# OPTIONS

mount(8)'s own options (\_netdev, nofail, auto, noauto, user, users, nouser, owner, group, dev, nodev, suid, nosuid, exec, noexec, rw, defaults, x-\*, comment=) are accepted and ignored. An unknown option fails the mount with its name.

`)
	manOptions(&b)
	b.WriteString(`# EXIT STATUS

0 mounted; 1 incorrect invocation (an unknown option, a bad value); 32 mount failure (owserver unreachable, no such mountpoint, no FUSE), as mount(8) expects of a helper.

# SIGNALS

SIGTERM or SIGINT to the serving process unmounts; SIGHUP drops every cache.

# SECURITY

owserver has no authentication: keep it on loopback or behind a firewall. Without **allow\_other** only the user who mounted can use the mount.

# SEE ALSO

**owfuse**(8), **mount**(8), **fstab**(5), **mount.fuse3**(8)
`)
	return b.String()
}
