// Command owfuse mounts OWFS's owserver, the 1-Wire bus daemon (TCP port
// 4304), as a filesystem, and talks to it from the shell: its verbs dir,
// read, write and present print what ow-shell's owdir, owread, owwrite and
// owpresent print for the same server and paths, byte for byte; ping checks
// that owserver answers.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owfs"
)

// Exit codes; README's EXIT CODES section lists them.
const (
	exitOK    = 0 // success
	exitError = 1 // owserver refused a request (no such path, read-only property, bad value) or sent nonsense
	// 2 is reserved: the Go runtime exits with 2 after a panic.
	exitAbsent      = 3  // present: at least one path does not exist
	exitUsage       = 64 // bad command line: unknown verb or flag, bad flag value, missing argument (EX_USAGE)
	exitUnreachable = 69 // owserver could not be reached, or dropped the connection (EX_UNAVAILABLE)
	exitTimeout     = 75 // owserver did not answer within --timeout (EX_TEMPFAIL)
)

// owshellFlags are the flags ow-shell's programs send (0x10a); owfuse sends
// the same so that listings and values come out alike.
const owshellFlags = owclient.FlagOwnet | owclient.FlagAlias | owclient.FlagBusRet

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code. Every
// failure is reported here, as one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if isHelper(args) {
		return runHelper(ctx, args, stderr)
	}
	g := &globals{}
	app := &cli.App{
		Name:           "owfuse",
		Usage:          "mount OWFS's owserver as a filesystem; and the ow-shell toolbox (owdir, owread, owwrite, owpresent)",
		Flags:          globalFlags(),
		Before:         g.parse,
		After:          g.close,
		Commands:       commands(g),
		Action:         noVerb,
		Writer:         stdout,
		ErrWriter:      stderr,
		OnUsageError:   usageError("owfuse"),
		ExitErrHandler: func(*cli.Context, error) {}, // run reports errors; cli must not exit
	}
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := ec.Error(); msg != "" {
			fmt.Fprintln(stderr, msg)
		}
		return ec.ExitCode()
	}
	// What cli itself rejects, such as an unparsable OWFUSE_* variable.
	fmt.Fprintf(stderr, "owfuse: %v\n", err)
	return exitUsage
}

// commands returns the verbs. Each verb's OnUsageError reports a bad flag
// as a usage error; a mount verb would join this list.
func commands(g *globals) []*cli.Command {
	cmds := []*cli.Command{mountCommand(), dirCommand(g), readCommand(g), writeCommand(g), presentCommand(g), pingCommand(g)}
	for _, c := range cmds {
		c.OnUsageError = usageError("owfuse " + c.Name)
	}
	return cmds
}

// globals holds the options given before the verb and the client made from
// them.
type globals struct {
	timeout time.Duration
	client  *owclient.Client
}

// globalFlags are the options given before the verb.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "server", Aliases: []string{"s"}, Value: "localhost:" + owclient.DefaultPort, EnvVars: []string{"OWFUSE_SERVER"},
			Usage: "owserver address: host:port, host, or port on localhost"},
		&cli.StringFlag{Name: "temp-scale", Value: "C", EnvVars: []string{"OWFUSE_TEMP_SCALE"},
			Usage: "temperature scale: C, F, K or R"},
		&cli.StringFlag{Name: "pressure-scale", Value: "mbar", EnvVars: []string{"OWFUSE_PRESSURE_SCALE"},
			Usage: "pressure scale: mbar, atm, mmHg, inHg, psi or Pa"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "f.i", EnvVars: []string{"OWFUSE_FORMAT"},
			Usage: "device name format: f.i, fi, f.i.c, f.ic, fi.c or fic (f family, i id, c crc)"},
		&cli.BoolFlag{Name: "uncached", EnvVars: []string{"OWFUSE_UNCACHED"},
			Usage: "bypass owserver's cache and ask the 1-Wire bus"},
		&cli.DurationFlag{Name: "timeout", Value: 10 * time.Second, EnvVars: []string{"OWFUSE_TIMEOUT"},
			Usage: "give up on an operation owserver has not answered after this long"},
		&cli.BoolFlag{Name: "no-persistence", EnvVars: []string{"OWFUSE_NO_PERSISTENCE"},
			Usage: "open a new connection for every request"},
		&cli.BoolFlag{Name: "trace", EnvVars: []string{"OWFUSE_TRACE"},
			Usage: "log every protocol frame to stderr"},
	}
}

// parse checks the global flags and makes the client; it does not connect.
func (g *globals) parse(c *cli.Context) error {
	ts, err := owclient.ParseTempScale(c.String("temp-scale"))
	if err != nil {
		return usageErrorf("unknown temperature scale %q (want C, F, K or R)", c.String("temp-scale"))
	}
	ps, err := owclient.ParsePressureScale(c.String("pressure-scale"))
	if err != nil {
		return usageErrorf("unknown pressure scale %q (want mbar, atm, mmHg, inHg, psi or Pa)", c.String("pressure-scale"))
	}
	df, err := owclient.ParseDeviceFormat(c.String("format"))
	if err != nil {
		return usageErrorf("unknown device format %q (want f.i, fi, f.i.c, f.ic, fi.c or fic)", c.String("format"))
	}
	if g.timeout = c.Duration("timeout"); g.timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %v", g.timeout)
	}
	flags := owshellFlags.WithTempScale(ts).WithPressureScale(ps).WithDeviceFormat(df)
	if c.Bool("uncached") {
		flags |= owclient.FlagUncached
	}
	opts := owclient.Options{
		Flags:              flags,
		DisablePersistence: c.Bool("no-persistence"),
		FrameTimeout:       g.timeout, // --timeout is the only limit on a silent server
	}
	if c.Bool("trace") {
		opts.Logger = slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if g.client, err = owclient.New(c.String("server"), opts); err != nil {
		return usageErrorf("bad --server %q: %v", c.String("server"), strings.TrimPrefix(err.Error(), "owclient: "))
	}
	return nil
}

func (g *globals) close(*cli.Context) error {
	if g.client != nil {
		g.client.Close()
	}
	return nil
}

// call runs one owserver operation under --timeout and turns its error into
// one line and an exit code.
func (g *globals) call(c *cli.Context, op func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(c.Context, g.timeout)
	defer cancel()
	err := op(ctx)
	if err == nil {
		return nil
	}
	addr := g.client.Addr()
	var (
		se *owclient.ServerError
		ne *net.OpError
		ce *owclient.ConnError
	)
	switch {
	case errors.Is(err, owclient.ErrRequestTooLarge):
		return usageErrorf("%s", strings.TrimPrefix(err.Error(), "owclient: "))
	case errors.As(err, &se): // Error() holds OWFS's own text for the code
		return cli.Exit("owfuse: "+strings.TrimPrefix(se.Error(), "owclient: "), exitError)
	case owclient.IsTimeout(err):
		return cli.Exit(fmt.Sprintf("owfuse: owserver at %s did not answer within %v", addr, g.timeout), exitTimeout)
	case errors.As(err, &ne) && ne.Op == "dial":
		return cli.Exit(fmt.Sprintf("owfuse: cannot reach owserver at %s: %v", addr, ne.Err), exitUnreachable)
	case errors.As(err, &ce):
		return cli.Exit(fmt.Sprintf("owfuse: lost connection to owserver at %s: %v", addr, ce.Err), exitUnreachable)
	default:
		return cli.Exit("owfuse: "+strings.TrimPrefix(err.Error(), "owclient: "), exitError)
	}
}

// eachPath calls op for every path in turn, each under --timeout, and
// stops at the first failure. op writes to a buffered stdout, which is
// flushed even then.
func (g *globals) eachPath(c *cli.Context, paths []string, op func(ctx context.Context, w *bufio.Writer, path string) error) error {
	w := bufio.NewWriter(c.App.Writer)
	var err error
	for _, p := range paths {
		if err = g.call(c, func(ctx context.Context) error { return op(ctx, w, p) }); err != nil {
			break
		}
	}
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = cli.Exit("owfuse: writing output: "+ferr.Error(), exitError)
	}
	return err
}

func dirCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "dir",
		Usage:     "list directories, one full path per line, like owdir",
		ArgsUsage: "[PATH]... (default /)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "slash", Aliases: []string{"dir"}, EnvVars: []string{"OWFUSE_DIR_SLASH"},
				Usage: "end directory entries with /, like owdir --dir"},
		},
		Action: func(c *cli.Context) error {
			paths := c.Args().Slice()
			if len(paths) == 0 {
				paths = []string{"/"}
			}
			return g.eachPath(c, paths, func(ctx context.Context, w *bufio.Writer, p string) error {
				entries, err := g.client.Dir(ctx, p, owclient.WithSlash(c.Bool("slash")), owclient.WithBus(true))
				for _, e := range entries {
					w.WriteString(e + "\n")
				}
				return err
			})
		},
	}
}

func readCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "read",
		Usage:     "print values as they are, without a newline, like owread",
		ArgsUsage: "PATH...",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "size", Value: owclient.DefaultReadSize, EnvVars: []string{"OWFUSE_READ_SIZE"},
				Usage: fmt.Sprintf("read at most this many bytes (1 to %d)", owclient.MaxServerPayload)},
			&cli.IntFlag{Name: "offset", EnvVars: []string{"OWFUSE_READ_OFFSET"},
				Usage: "start reading at this byte of the value"},
			&cli.BoolFlag{Name: "hex", EnvVars: []string{"OWFUSE_READ_HEX"},
				Usage: "print the bytes in hexadecimal, like owread --hex"},
		},
		Action: func(c *cli.Context) error {
			size, offset := c.Int("size"), c.Int("offset")
			switch {
			case c.NArg() == 0:
				return usageErrorf("read needs at least one PATH (see owfuse read --help)")
			case size < 1 || size > owclient.MaxServerPayload:
				return usageErrorf("--size must be 1 to %d, got %d", owclient.MaxServerPayload, size)
			case offset < 0:
				return usageErrorf("--offset must not be negative, got %d", offset)
			}
			return g.eachPath(c, c.Args().Slice(), func(ctx context.Context, w *bufio.Writer, p string) error {
				data, err := g.client.ReadAt(ctx, p, size, offset)
				if c.Bool("hex") {
					fmt.Fprintf(w, "%X", data)
				} else {
					w.Write(data)
				}
				return err
			})
		},
	}
}

func writeCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "write",
		Usage:     "set values, like owwrite",
		ArgsUsage: "PATH VALUE [PATH VALUE]...",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "offset", EnvVars: []string{"OWFUSE_WRITE_OFFSET"},
				Usage: "start writing at this byte of the value, as for memory pages"},
			&cli.BoolFlag{Name: "hex", EnvVars: []string{"OWFUSE_WRITE_HEX"},
				Usage: "VALUE is hexadecimal, like owwrite --hex"},
		},
		Action: func(c *cli.Context) error {
			args, offset := c.Args().Slice(), c.Int("offset")
			if len(args) == 0 || len(args)%2 != 0 {
				return usageErrorf("write needs PATH VALUE pairs (see owfuse write --help)")
			}
			if offset < 0 {
				return usageErrorf("--offset must not be negative, got %d", offset)
			}
			for i := 0; i < len(args); i += 2 {
				path, value := args[i], []byte(args[i+1])
				if c.Bool("hex") {
					var err error
					if value, err = hex.DecodeString(args[i+1]); err != nil {
						return usageErrorf("value %q for %s is not hexadecimal", args[i+1], path)
					}
				}
				if err := g.call(c, func(ctx context.Context) error { return g.client.WriteAt(ctx, path, value, offset) }); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func presentCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "present",
		Usage:     "print 1 or 0 for each path, without a newline, like owpresent; exit status 3 if any is absent",
		ArgsUsage: "PATH...",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageErrorf("present needs at least one PATH (see owfuse present --help)")
			}
			absent := false
			err := g.eachPath(c, c.Args().Slice(), func(ctx context.Context, w *bufio.Writer, p string) error {
				ok, err := g.client.Present(ctx, p)
				switch {
				case err != nil:
					return err
				case ok:
					w.WriteString("1")
				default:
					w.WriteString("0")
					absent = true
				}
				return nil
			})
			if err == nil && absent {
				return cli.Exit("", exitAbsent)
			}
			return err
		},
	}
}

func pingCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "ping",
		Usage: "check that owserver answers; prints nothing, exit status 0 if it does",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("ping takes no arguments")
			}
			return g.call(c, g.client.Ping)
		},
	}
}

// noVerb is the action of owfuse without a verb, or with an unknown one.
func noVerb(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("unknown command %q (see owfuse --help)", c.Args().First())
	}
	cli.ShowAppHelp(c)
	return cli.Exit("", exitUsage)
}

func usageErrorf(format string, args ...any) error {
	return cli.Exit("owfuse: "+fmt.Sprintf(format, args...), exitUsage)
}

// usageError reports a flag that cli could not parse for the command name.
func usageError(name string) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		return usageErrorf("%v (see %s --help)", err, name)
	}
}

func mountCommand() *cli.Command {
	var flags []cli.Flag
	for _, s := range owfs.Settings {
		env := []string{"OWFUSE_" + strings.ToUpper(s.Name)}
		if s.Bool {
			flags = append(flags, &cli.BoolFlag{Name: s.FlagName(), Usage: s.Usage, EnvVars: env, Value: s.Default() == "true"})
		} else {
			flags = append(flags, &cli.StringFlag{Name: s.FlagName(), Usage: s.Usage, EnvVars: env, DefaultText: s.Default()})
		}
	}
	flags = append(flags, &cli.StringSliceFlag{Name: "o", Usage: "mount options, comma-separated: the flags above with underscores (-o ro,temp_scale=F)"})
	return &cli.Command{
		Name:      "mount",
		Usage:     "serve owserver's tree at MOUNTPOINT until unmounted or interrupted",
		ArgsUsage: "SERVER MOUNTPOINT [-o OPTIONS]",
		Flags:     flags,
		Action:    mount,
	}
}

// mount parses the settings (flags, then -o lists in order; both may also
// follow the positional arguments, as mount(8) passes them) and serves.
func mount(c *cli.Context) error {
	cfg := owfs.DefaultConfig()
	for _, s := range owfs.Settings {
		if !c.IsSet(s.FlagName()) {
			continue
		}
		v := c.String(s.FlagName())
		if s.Bool {
			v = fmt.Sprint(c.Bool(s.FlagName()))
		}
		if err := s.Set(&cfg, v); err != nil {
			return usageErrorf("%v", err)
		}
	}
	for _, list := range c.StringSlice("o") {
		if err := owfs.ParseOptions(&cfg, list); err != nil {
			return usageErrorf("%v", err)
		}
	}
	pos, err := owfs.ParseTrailing(&cfg, c.Args().Slice())
	if err != nil {
		return usageErrorf("%v", err)
	}
	if len(pos) != 2 {
		return usageErrorf("mount needs SERVER and MOUNTPOINT (see owfuse mount --help)")
	}
	return serve(c.Context, pos[0], pos[1], cfg, c.App.ErrWriter)
}

// isHelper reports whether owfuse runs as a mount helper: as
// /sbin/mount.owfuse, or as `owfuse SOURCE MOUNTPOINT -o …` from
// mount.fuse3 (for -t fuse.owfuse), whose first argument is no verb.
func isHelper(args []string) bool {
	if len(args) == 0 {
		return false
	}
	if strings.HasPrefix(filepath.Base(args[0]), "mount.") {
		return true
	}
	if len(args) < 3 || strings.HasPrefix(args[1], "-") || args[1] == "help" {
		return false
	}
	for _, c := range commands(&globals{}) {
		if c.Name == args[1] {
			return false
		}
	}
	return !strings.HasPrefix(args[2], "-")
}

// runHelper mounts as mount(8) asks: SOURCE MOUNTPOINT [-s] [-n] [-v]
// [-f] -o OPTIONS, returning once the mount answers.
func runHelper(ctx context.Context, args []string, stderr io.Writer) int {
	h, err := owfs.ParseHelperArgs(args[1:])
	if err != nil {
		fmt.Fprintf(stderr, "owfuse: %v\n", err)
		return exitUsage
	}
	cfg := owfs.DefaultConfig()
	for _, list := range h.Options {
		if err := owfs.ParseOptions(&cfg, list); err != nil {
			fmt.Fprintf(stderr, "owfuse: %v\n", err)
			return exitUsage
		}
	}
	if h.Fake { // mount -f: check the arguments, mount nothing
		return exitOK
	}
	cfg.Daemon = true
	err = serve(ctx, h.Source, h.Mountpoint, cfg, stderr)
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		fmt.Fprintln(stderr, ec.Error())
		return ec.ExitCode()
	}
	return exitOK
}

// serve runs owfs.Serve and turns its error into one line and an exit
// code.
func serve(ctx context.Context, server, dir string, cfg owfs.Config, stderr io.Writer) error {
	err := owfs.Serve(ctx, server, dir, cfg, stderr)
	switch {
	case err == nil:
		return nil
	case owfs.IsUnreachable(err):
		return cli.Exit("owfuse: "+err.Error(), exitUnreachable)
	}
	return cli.Exit("owfuse: "+err.Error(), exitError)
}
