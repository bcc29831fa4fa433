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
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient"
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

// Programs maps ow-shell's program names to the verbs that replace them.
var Programs = map[string]string{
	"owdir": "dir", "owread": "read", "owwrite": "write", "owget": "get", "owpresent": "present",
}

// owshellFlags are the flags ow-shell's programs send (0x10a); the verbs
// send the same so that listings and values come out alike.
const owshellFlags = owclient.FlagOwnet | owclient.FlagAlias | owclient.FlagBusRet

// The bounds of --timeout, those of the mount's timeout option: below
// 10ms nothing answers, and a bus read takes a second at most.
const (
	minTimeout = 10 * time.Millisecond
	maxTimeout = 10 * time.Minute
)

// seconds is a duration flag that also takes a bare number of seconds, as
// ow-shell's --timeout does.
type seconds struct{ d time.Duration }

func (s *seconds) Set(v string) error {
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 && n < 1e9 {
		s.d = time.Duration(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want a duration such as 500ms, 30s or 2m, or seconds")
	}
	s.d = d
	return nil
}

func (s *seconds) String() string { return s.d.String() }

// maxOffset is the largest offset a request carries: the header's offset
// is a signed 32-bit number.
const maxOffset = math.MaxInt32

// Shorthands are ow-shell's other names for options: the switches for a
// scale (-C, -F, -K, -R, their long forms, the pressure units) and
// --hexadecimal.
var Shorthands = map[string]string{
	"C": "temp-scale=C", "F": "temp-scale=F", "K": "temp-scale=K", "R": "temp-scale=R",
	"Celsius": "temp-scale=C", "Fahrenheit": "temp-scale=F", "Kelvin": "temp-scale=K", "Rankine": "temp-scale=R",
	"hexadecimal": "hex",
	"mbar":        "pressure-scale=mbar", "atm": "pressure-scale=atm", "mmHg": "pressure-scale=mmHg",
	"inHg": "pressure-scale=inHg", "psi": "pressure-scale=psi", "Pa": "pressure-scale=Pa",
}

// ServerFlags are the options every verb takes: where owserver is and how
// to talk to it.
func ServerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "server", Aliases: []string{"s"}, Value: "localhost:" + owclient.DefaultPort, EnvVars: []string{"OWFUSE_SERVER"},
			Usage: "owserver at `ADDRESS`: host:port, host, or port on localhost"},
		&cli.StringFlag{Name: "temp-scale", Value: "C", EnvVars: []string{"OWFUSE_TEMP_SCALE"},
			Usage: "temperature `SCALE`: C, F, K or R (also -C, -F, -K, -R)"},
		&cli.StringFlag{Name: "pressure-scale", Value: "mbar", EnvVars: []string{"OWFUSE_PRESSURE_SCALE"},
			Usage: "pressure `UNIT`: mbar, atm, mmHg, inHg, psi or Pa (also --mbar, --atm, …)"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "f.i", EnvVars: []string{"OWFUSE_FORMAT"},
			Usage: "device name `FORMAT`: f.i, fi, f.i.c, f.ic, fi.c or fic (f family, i id, c crc)"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "uncached", EnvVars: []string{"OWFUSE_UNCACHED"},
			Usage: "bypass owserver's cache and ask the 1-Wire bus"},
		&cli.GenericFlag{Name: "timeout", Value: &seconds{10 * time.Second}, EnvVars: []string{"OWFUSE_TIMEOUT"},
			Usage: "give up on a request owserver has not answered after `DURATION` (500ms, 2m; a bare number is seconds, as ow-shell's)"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "no-persistence", EnvVars: []string{"OWFUSE_NO_PERSISTENCE"},
			Usage: "open a new connection for every request"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "trace", EnvVars: []string{"OWFUSE_TRACE"},
			Usage: "log every protocol frame to stderr"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "quiet", Aliases: []string{"q"}, EnvVars: []string{"OWFUSE_QUIET"},
			Usage: "print no error messages; the exit status still tells"},
	}
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
	c       *cli.Context
	timeout time.Duration
	quiet   bool
	client  *owclient.Client
}

// open checks the server options and makes the client; it does not
// connect, so a bad option fails before any network traffic.
func open(c *cli.Context) (*session, error) {
	ts, err := owclient.ParseTempScale(c.String("temp-scale"))
	if err != nil {
		return nil, UsageErrorf("unknown temperature scale %q (want C, F, K or R)", c.String("temp-scale"))
	}
	ps, err := owclient.ParsePressureScale(c.String("pressure-scale"))
	if err != nil {
		return nil, UsageErrorf("unknown pressure scale %q (want mbar, atm, mmHg, inHg, psi or Pa)", c.String("pressure-scale"))
	}
	df, err := owclient.ParseDeviceFormat(c.String("format"))
	if err != nil {
		return nil, UsageErrorf("unknown device format %q (want f.i, fi, f.i.c, f.ic, fi.c or fic)", c.String("format"))
	}
	s := &session{c: c, timeout: c.Generic("timeout").(*seconds).d, quiet: c.Bool("quiet")}
	if s.timeout < minTimeout || s.timeout > maxTimeout {
		return nil, UsageErrorf("invalid value %q for --timeout: want 10ms to 10m", c.Generic("timeout"))
	}
	flags := owshellFlags.WithTempScale(ts).WithPressureScale(ps).WithDeviceFormat(df)
	if c.Bool("uncached") {
		flags |= owclient.FlagUncached
	}
	opts := owclient.Options{
		Flags:              flags,
		DisablePersistence: c.Bool("no-persistence"),
		FrameTimeout:       s.timeout, // --timeout is the only limit on a silent server
	}
	if c.Bool("trace") {
		opts.Logger = slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if s.client, err = owclient.New(c.String("server"), opts); err != nil {
		return nil, UsageErrorf("bad --server %q: %v", c.String("server"), strings.TrimPrefix(err.Error(), "owclient: "))
	}
	return s, nil
}

// action wraps a verb: it opens the session, runs the verb and closes the
// client, and -q drops the error's message, keeping its exit code.
func action(verb func(s *session) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		s, err := open(c)
		if err == nil {
			err = verb(s)
			s.client.Close()
		}
		var (
			ec cli.ExitCoder
			f  *Failure
		)
		if err != nil && c.Bool("quiet") && !errors.As(err, &f) && errors.As(err, &ec) {
			return cli.Exit("", ec.ExitCode())
		}
		return err
	}
}

// call runs one owserver operation under --timeout and turns its error into
// one line and an exit code.
func (s *session) call(op func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(s.c.Context, s.timeout)
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
		return cli.Exit(fmt.Sprintf("owfuse: owserver at %s did not answer within %v", addr, s.timeout), ExitTimeout)
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
		if msg := err.Error(); msg != "" && !s.quiet {
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

// checkOffset rejects an offset no request can carry.
func checkOffset(offset int) error {
	if offset < 0 || offset > maxOffset {
		return UsageErrorf("--offset must be 0 to %d, got %d", maxOffset, offset)
	}
	return nil
}
