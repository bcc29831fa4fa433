// Package owshell is OWFS's ow-shell toolbox over owclient: the verbs dir,
// read, write, get, present and ping print what owdir, owread, owwrite,
// owget and owpresent print for the same server and paths, byte for byte,
// and take their options anywhere on the line, as they do. Programs maps
// ow-shell's program names to the verbs, so that a link named owread runs
// `owfuse read` with ow-shell's own options.
package owshell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owopt"
)

// Exit codes. 2 is left out: the Go runtime exits with 2 after a panic.
const (
	ExitOK          = 0  // success
	ExitError       = 1  // owserver refused a request (no such path, read-only property, bad value) or sent nonsense
	ExitAbsent      = 3  // present: at least one path does not exist
	ExitUsage       = 64 // bad command line: unknown verb or option, bad value, missing argument (EX_USAGE)
	ExitUnreachable = 69 // owserver could not be reached, or dropped the connection (EX_UNAVAILABLE)
	ExitTimeout     = 75 // owserver did not answer within --timeout (EX_TEMPFAIL)
)

// Programs maps ow-shell's program names to the verbs that replace them;
// each call returns a map of its own.
func Programs() map[string]string {
	return map[string]string{
		"owdir": "dir", "owread": "read", "owwrite": "write", "owget": "get", "owpresent": "present",
	}
}

// owshellFlags are the flags ow-shell's programs send (0x10a); the verbs
// send the same so that listings and values come out alike.
const owshellFlags = owclient.FlagOwnet | owclient.FlagAlias | owclient.FlagBusRet

// maxOffset is the largest offset a request carries: the header's offset
// is a signed 32-bit number.
const maxOffset = math.MaxInt32

// Shorthands are ow-shell's other names for options: the switches for a
// scale (-C, -F, -K, -R, their long forms, the pressure units) and
// --hexadecimal. Each call returns a map of its own.
func Shorthands() map[string]string {
	return map[string]string{
		"C": "temp-scale=C", "F": "temp-scale=F", "K": "temp-scale=K", "R": "temp-scale=R",
		"Celsius": "temp-scale=C", "Fahrenheit": "temp-scale=F", "Kelvin": "temp-scale=K", "Rankine": "temp-scale=R",
		"hexadecimal": "hex",
		"mbar":        "pressure-scale=mbar", "atm": "pressure-scale=atm", "mmHg": "pressure-scale=mmHg",
		"inHg": "pressure-scale=inHg", "psi": "pressure-scale=psi", "Pa": "pressure-scale=Pa",
	}
}

// config is what a verb is told: where owserver is and how to talk to it,
// as every verb is, and the verb's own options.
type config struct {
	Server        string
	owopt.Request // scales, name format, uncached, timeout: the mount's too
	NoPersistence bool
	Trace         bool
	Quiet         bool

	Slash, Hex   bool // dir, get; read, get, write
	Size, Offset int  // read, get; read, get, write
}

func defaultConfig() config {
	return config{Server: "localhost:" + owclient.DefaultPort, Request: owopt.DefaultRequest(), Size: owclient.DefaultReadSize}
}

// serverOptions are the names of the options every verb takes.
var serverOptions = []string{"server", "temp_scale", "pressure_scale", "format", "uncached", "timeout", "no_persistence", "trace", "quiet"}

// options is the toolbox's table: the server options, then the verbs'
// own, each of which a verb takes with help of its own (verbFlag).
var options = func() *owopt.Table[config] {
	shared := owopt.SharedOptions(func(c *config) *owopt.Request { return &c.Request })
	return owopt.NewTable(owopt.FlagNaming, defaultConfig,
		owopt.Address("server", "owserver at `ADDRESS`: host:port, host, or port on localhost", checkServer,
			func(c *config) *string { return &c.Server }).WithAliases("s"),
		shared.TempScale.WithNote("also -C, -F, -K, -R"),
		shared.PressureScale.WithNote("also --mbar, --atm, …"),
		shared.Format.WithAliases("f"),
		shared.Uncached,
		shared.Timeout,
		owopt.Switch("no_persistence", "open a new connection for every request", func(c *config) *bool { return &c.NoPersistence }),
		owopt.Switch("trace", "log every protocol frame to stderr", func(c *config) *bool { return &c.Trace }),
		owopt.Switch("quiet", "print no error messages; the exit status still tells", func(c *config) *bool { return &c.Quiet }).WithAliases("q"),

		owopt.Switch("dir", "end directory entries with /, like owdir --dir", func(c *config) *bool { return &c.Slash }).
			WithAliases("slash").WithEnv("OWFUSE_DIR_SLASH"),
		owopt.Switch("hex", "values in hexadecimal", func(c *config) *bool { return &c.Hex }).WithEnv(""),
		owopt.Whole("size", fmt.Sprintf("read at most `BYTES` (1 to %d)", owclient.MaxServerPayload), 1, owclient.MaxServerPayload,
			func(c *config) *int { return &c.Size }).WithEnv("OWFUSE_READ_SIZE"),
		owopt.Whole("offset", "start at byte `N` of the value", 0, maxOffset, func(c *config) *int { return &c.Offset }).WithEnv(""),
	)
}()

// checkServer checks an owserver address as the client reads it.
func checkServer(addr string) error {
	c, err := owclient.New(addr, owclient.Options{})
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "owclient: "))
	}
	return c.Close()
}

// ServerFlags are the options every verb takes: where owserver is and how
// to talk to it.
func ServerFlags() []cli.Flag {
	flags := make([]cli.Flag, len(serverOptions))
	for i, name := range serverOptions {
		flags[i] = verbFlag(name, "")
	}
	return flags
}

// verbFlag is the flag of the option called name, with help of its own
// unless help is "".
func verbFlag(name, help string) cli.Flag {
	o, ok := options.Lookup(name)
	if !ok {
		panic("owshell: no option " + name)
	}
	if help != "" {
		o = o.WithHelp(help)
	}
	return o.Flag()
}

// Commands returns the verbs: dir, read, write, get, present and ping.
func Commands() []*cli.Command {
	cmds := []*cli.Command{dirCommand(), readCommand(), writeCommand(), getCommand(), presentCommand(), pingCommand()}
	for _, c := range cmds {
		c.Flags = append(ServerFlags(), c.Flags...)
	}
	return cmds
}

// session is one verb's run: its options and the client made from them.
type session struct {
	c      *cli.Context
	cfg    config
	client *owclient.Client
}

// open makes the client of a verb told cfg; it does not connect.
func open(c *cli.Context, cfg config) (*session, error) {
	opts := owclient.Options{
		Flags:              cfg.Request.Flags(owshellFlags),
		DisablePersistence: cfg.NoPersistence,
		FrameTimeout:       cfg.Timeout, // --timeout is the only limit on a silent server
	}
	if cfg.Trace {
		opts.Logger = slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	client, err := owclient.New(cfg.Server, opts)
	if err != nil { // checkServer let it through
		return nil, UsageErrorf("option --server: %v", strings.TrimPrefix(err.Error(), "owclient: "))
	}
	return &session{c: c, cfg: cfg, client: client}, nil
}

// action wraps a verb: it reads the options, so that a bad one fails
// before any network traffic, opens the session, runs the verb and closes
// the client; -q drops the error's message, keeping its exit code.
func action(verb func(s *session) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		cfg, err := options.Parse(c)
		if err != nil {
			err = UsageErrorf("%v (see %s)", err, helpHint(c))
		} else {
			var s *session
			if s, err = open(c, cfg); err == nil {
				err = verb(s)
				s.client.Close()
			}
		}
		var (
			ec cli.ExitCoder
			f  *Failure
		)
		if err != nil && cfg.Quiet && !errors.As(err, &f) && errors.As(err, &ec) {
			return cli.Exit("", ec.ExitCode())
		}
		return err
	}
}

// call runs one owserver operation under --timeout and turns its error into
// one line and an exit code.
func (s *session) call(op func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(s.c.Context, s.cfg.Timeout)
	defer cancel()
	err := op(ctx)
	if err == nil {
		return nil
	}
	addr := s.client.Addr()
	var (
		se *owclient.ServerError
		ne *net.OpError
		ce *owclient.ConnError
	)
	switch {
	case errors.Is(err, owclient.ErrRequestTooLarge), errors.Is(err, owclient.ErrInvalidPath):
		return UsageErrorf("%s", strings.TrimPrefix(err.Error(), "owclient: "))
	case errors.As(err, &se): // Error() holds OWFS's own text for the code
		return cli.Exit("owfuse: "+strings.TrimPrefix(se.Error(), "owclient: "), ExitError)
	case owclient.IsTimeout(err):
		return cli.Exit(fmt.Sprintf("owfuse: owserver at %s did not answer within %v", addr, s.cfg.Timeout), ExitTimeout)
	case errors.As(err, &ne) && ne.Op == "dial":
		return cli.Exit(fmt.Sprintf("owfuse: cannot reach owserver at %s: %v", addr, ne.Err), ExitUnreachable)
	case errors.As(err, &ce):
		return cli.Exit(fmt.Sprintf("owfuse: lost connection to owserver at %s: %v", addr, ce.Err), ExitUnreachable)
	default:
		return cli.Exit("owfuse: "+strings.TrimPrefix(err.Error(), "owclient: "), ExitError)
	}
}

// eachPath calls op for every path in turn; see each.
func (s *session) eachPath(paths []string, op func(ctx context.Context, w *bufio.Writer, path string) error) error {
	return s.each(len(paths), func(ctx context.Context, w *bufio.Writer, i int) error { return op(ctx, w, paths[i]) })
}

// each calls op n times, each under --timeout, writing to a buffered
// stdout. As ow-shell does, a path that fails is reported at once (one
// line on stderr) and the next one is tried; only an owserver that cannot
// be reached or does not answer ends the run, since every later path would
// wait for it too. The error is then a *Failure.
func (s *session) each(n int, op func(ctx context.Context, w *bufio.Writer, i int) error) error {
	w := bufio.NewWriter(s.c.App.Writer)
	var failed *Failure
	for i := 0; i < n; i++ {
		err := s.call(func(ctx context.Context) error { return op(ctx, w, i) })
		if err == nil {
			continue
		}
		code := ExitError
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if code == ExitUnreachable || code == ExitTimeout || code == ExitUsage {
			w.Flush()
			return err
		}
		w.Flush() // what came before the failure, before its message
		if msg := err.Error(); msg != "" && !s.cfg.Quiet {
			fmt.Fprintln(s.c.App.ErrWriter, msg)
		}
		failed = &Failure{Code: code, LastFailed: i == n-1}
	}
	if err := w.Flush(); err != nil {
		return cli.Exit("owfuse: writing output: "+err.Error(), ExitError)
	}
	if failed == nil {
		return nil
	}
	return failed
}

// Failure is the outcome of a verb some of whose paths failed, each
// already reported on stderr. The exit code is the last failure's.
type Failure struct {
	Code int
	// LastFailed tells whether the last path was one of them: ow-shell's
	// programs exit with the status of their last path.
	LastFailed bool
}

// Error is empty: each failure was reported when it happened, and the
// caller prints a non-empty message of an error once more.
func (f *Failure) Error() string { return "" }

// ExitCode makes a Failure a cli.ExitCoder.
func (f *Failure) ExitCode() int { return f.Code }

// UsageErrorf is a usage error: one line, exit status 64.
func UsageErrorf(format string, args ...any) error {
	return cli.Exit("owfuse: "+fmt.Sprintf(format, args...), ExitUsage)
}

// checkRequest rejects, before connecting, a path and value owserver
// would refuse for their size.
func checkRequest(path string, value int) error {
	if n := len(path) + 1 + value; n > owclient.MaxServerPayload {
		return UsageErrorf("%.40s…: path and value are %d bytes, owserver takes at most %d", path, n, owclient.MaxServerPayload)
	}
	return nil
}
