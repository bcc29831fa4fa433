package owshell

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient"
)

func dirCommand() *cli.Command {
	return &cli.Command{
		Name:      "dir",
		Usage:     "list directories, one full path per line, like owdir",
		ArgsUsage: "[PATH]... (default /)",
		Flags:     []cli.Flag{verbFlag("dir", "")},
		Action: action(func(s *session) error {
			paths := rootIfEmpty(s.c.Args().Slice())
			if len(paths) == 0 {
				paths = []string{"/"}
			}
			if err := checkPaths(paths); err != nil {
				return err
			}
			return s.eachPath(paths, s.list)
		}),
	}
}

// list prints the listing of one directory, as owdir does.
func (s *session) list(ctx context.Context, w *bufio.Writer, p string) error {
	entries, err := s.client.Dir(ctx, p, owclient.WithSlash(s.cfg.Slash), owclient.WithBus(true))
	for _, e := range entries {
		w.WriteString(e + "\n")
	}
	return err
}

// helpHint is where the verb's help is: owfuse read --help, or owread
// --help under ow-shell's name.
func helpHint(c *cli.Context) string {
	if c.App.Name != "owfuse" {
		return c.App.Name + " --help"
	}
	return "owfuse " + c.Command.Name + " --help"
}

// rootIfEmpty makes an empty path the root, as ow-shell reads it.
func rootIfEmpty(paths []string) []string {
	for i, p := range paths {
		if p == "" {
			paths[i] = "/"
		}
	}
	return paths
}

// readArgs checks read's and get's paths before any traffic; verb is
// the verb that needs a PATH, or "".
func readArgs(c *cli.Context, verb string) error {
	if c.NArg() == 0 && verb != "" {
		return UsageErrorf("%s needs at least one PATH (see %s)", verb, helpHint(c))
	}
	return checkPaths(c.Args().Slice())
}

func checkPaths(paths []string) error {
	for _, p := range paths {
		if err := checkRequest(p, 0); err != nil {
			return err
		}
	}
	return nil
}

// read prints one value, as owread does: as it is, without a newline.
func (s *session) read(ctx context.Context, w *bufio.Writer, p string) error {
	data, err := s.client.ReadAt(ctx, p, s.cfg.Size, s.cfg.Offset)
	if s.cfg.Hex {
		fmt.Fprintf(w, "%X", data)
	} else {
		w.Write(data)
	}
	return err
}

func readCommand() *cli.Command {
	return &cli.Command{
		Name:      "read",
		Usage:     "print values as they are, without a newline, like owread",
		ArgsUsage: "PATH...",
		Flags: []cli.Flag{verbFlag("size", ""), verbFlag("offset", "start reading at byte `N` of the value"),
			verbFlag("hex", "print the bytes in hexadecimal, like owread --hex")},
		Before: func(c *cli.Context) error { return readArgs(c, "read") },
		Action: action(func(s *session) error { return s.eachPath(s.c.Args().Slice(), s.read) }),
	}
}

func getCommand() *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "list a directory or print a value, like owget (dir for directories, read for the rest)",
		ArgsUsage: "[PATH]... (default /)",
		Flags: []cli.Flag{verbFlag("dir", ""), verbFlag("size", ""), verbFlag("offset", "start reading values at byte `N`"),
			verbFlag("hex", "print values in hexadecimal")},
		Before: func(c *cli.Context) error { return readArgs(c, "") },
		Action: action(func(s *session) error {
			paths := rootIfEmpty(s.c.Args().Slice())
			if len(paths) == 0 {
				paths = []string{"/"}
			}
			return s.eachPath(paths, func(ctx context.Context, w *bufio.Writer, p string) error {
				// owget asks for a listing first and reads what is no
				// directory; so does get, through the same requests.
				err := s.list(ctx, w, p)
				if errors.Is(err, syscall.ENOTDIR) {
					return s.read(ctx, w, p)
				}
				return err
			})
		}),
	}
}

func writeCommand() *cli.Command {
	return &cli.Command{
		Name:      "write",
		Usage:     "set values, like owwrite",
		ArgsUsage: "PATH VALUE [PATH VALUE]...",
		Flags: []cli.Flag{verbFlag("offset", "start writing at byte `N` of the value, as for memory pages"),
			verbFlag("hex", "VALUE is hexadecimal, like owwrite --hex")},
		Action: action(func(s *session) error {
			args := s.c.Args().Slice()
			if len(args) == 0 || len(args)%2 != 0 {
				return UsageErrorf("write needs PATH VALUE pairs (see %s)", helpHint(s.c))
			}
			// Every pair is checked before the first is sent, so that a
			// bad last value does not leave the first ones written.
			values := make([][]byte, len(args)/2)
			for i := 0; i < len(args); i += 2 {
				path, value := args[i], []byte(args[i+1])
				if s.cfg.Hex {
					var err error
					if value, err = hex.DecodeString(args[i+1]); err != nil {
						return UsageErrorf("value %q for %s is not hexadecimal", args[i+1], path)
					}
				}
				if err := checkRequest(path, len(value)); err != nil {
					return err
				}
				values[i/2] = value
			}
			return s.each(len(values), func(ctx context.Context, _ *bufio.Writer, i int) error {
				return s.client.WriteAt(ctx, args[2*i], values[i], s.cfg.Offset)
			})
		}),
	}
}

func presentCommand() *cli.Command {
	return &cli.Command{
		Name:      "present",
		Usage:     "print 1 or 0 for each path, without a newline, like owpresent; exit status 3 if any is absent",
		ArgsUsage: "PATH...",
		Action: action(func(s *session) error {
			if s.c.NArg() == 0 {
				return UsageErrorf("present needs at least one PATH (see %s)", helpHint(s.c))
			}
			paths := rootIfEmpty(s.c.Args().Slice())
			if err := checkPaths(paths); err != nil {
				return err
			}
			absent, lastAbsent := false, false
			err := s.eachPath(paths, func(ctx context.Context, w *bufio.Writer, p string) error {
				ok, err := s.client.Present(ctx, p)
				switch {
				case err != nil:
					return err
				case ok:
					w.WriteString("1")
				default:
					w.WriteString("0")
					absent = true
				}
				lastAbsent = !ok
				return nil
			})
			if err == nil && absent {
				return &Failure{Code: ExitAbsent, LastFailed: lastAbsent}
			}
			return err
		}),
	}
}

func pingCommand() *cli.Command {
	return &cli.Command{
		Name:  "ping",
		Usage: "check that owserver answers; prints nothing, exit status 0 if it does",
		Action: action(func(s *session) error {
			if s.c.NArg() > 0 {
				return UsageErrorf("ping takes no arguments")
			}
			return s.call(s.client.Ping)
		}),
	}
}
