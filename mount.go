package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient/owshell"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// mountCommand is `owfuse mount`: a flag per mount setting (each also an
// -o option and an OWFUSE_ variable), read by mountlib.Settings().Parse.
func mountCommand() *cli.Command {
	flags := append(mountlib.Settings().Flags(),
		// For the help only: rewrite turns each -o list into the flags
		// above before cli parses the line, so Action never reads it.
		&cli.StringSliceFlag{Name: "o", Usage: "mount `OPTIONS`, comma-separated: the flags above with underscores (-o ro,temp_scale=F)"},
		&cli.BoolFlag{Name: "fake", Hidden: true, Usage: "check the command line, mount nothing (mount -f)"})
	return &cli.Command{
		Name:      "mount",
		Usage:     "serve owserver's tree at MOUNTPOINT until unmounted or interrupted",
		ArgsUsage: "SERVER MOUNTPOINT [-o OPTIONS]",
		Flags:     flags,
		Action: func(c *cli.Context) error {
			cfg, err := mountlib.Settings().Parse(c)
			if err != nil {
				return owshell.UsageErrorf("%v (see owfuse mount --help)", err)
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

// serve runs the mount and turns its error into one line and an exit
// code.
func serve(ctx context.Context, server, dir string, cfg mountlib.Config, stderr io.Writer) error {
	err := runMount(ctx, server, dir, cfg, stderr)
	switch {
	case err == nil:
		return nil
	case unreachable(err):
		return cli.Exit("owfuse: "+err.Error(), owshell.ExitUnreachable)
	}
	return cli.Exit("owfuse: "+err.Error(), owshell.ExitError)
}

// unreachable reports whether a mount failed because owserver did not
// answer, in this process or in a daemon child: the one test behind exit
// status 69 and the daemon's report to its parent.
func unreachable(err error) bool {
	var ue *mountlib.UnreachableError
	var ce *childError
	return errors.As(err, &ue) || (errors.As(err, &ce) && ce.Unreachable)
}

// runMount mounts and serves until SIGINT or SIGTERM or an unmount from
// outside; with cfg.Daemon it returns as soon as a detached copy of this
// program reports the mount live. The process-wide decisions (signals,
// re-executing, the collector's settings) are made here and nowhere else.
func runMount(ctx context.Context, server, dir string, cfg mountlib.Config, stderr io.Writer) error {
	// A reader of stderr that goes away (owfuse mount … 2>&1 | head) must
	// not kill the mount with SIGPIPE and leave it dead: with SIGPIPE
	// notified, such a write fails with EPIPE instead.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// Before mounting, or starting the child that mounts: a signal that
	// comes as soon as the mount answers (or the parent of a daemon
	// returns) must unmount, not kill us.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	child := asDaemonChild()
	if cfg.Daemon && child == nil {
		dir, logFile, err := absPaths(dir, cfg.LogFile)
		if err != nil {
			return err
		}
		return daemonize(os.Args[1:], dir, logFile, cfg.WaitServer+cfg.Timeout+30*time.Second, sigs)
	}
	if child != nil && child.dir != "" { // "": started by hand, not by daemonize
		dir, cfg.LogFile = child.dir, child.logFile
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	level := slog.LevelInfo
	if cfg.Debug || cfg.FuseDebug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if child != nil || cfg.LogFile != "" {
		l, err := daemonLogger(cfg.LogFile, level)
		if err != nil {
			child.report(err)
			return fmt.Errorf("log file: %w", err)
		}
		cfg.Logger = l
	}

	// SIGINT and SIGTERM end ctx, which stops a mount under way or
	// unmounts a live one; SIGHUP drops the caches of a live one.
	var live atomic.Pointer[mountlib.Mounted]
	go func() {
		for {
			select {
			case sig := <-sigs:
				if sig != syscall.SIGHUP {
					cancel(signalError{sig})
					return
				}
				if m := live.Load(); m != nil {
					m.Cache.Purge()
					cfg.Logger.Info("SIGHUP: caches dropped")
				}
			case <-ctx.Done():
				return
			}
		}
	}()

	m, err := mountlib.Mount(ctx, server, dir, cfg)
	if err != nil {
		child.report(err)
		return err
	}
	live.Store(m)
	child.report(nil) // first: a slow log must not hold up the parent
	cfg.Logger.Info("mounted", "server", m.Client.Addr(), "mountpoint", m.Dir)
	if child == nil {
		fmt.Fprintf(stderr, "owfuse: serving owserver %s at %s; stop with Ctrl-C or umount %s\n", m.Client.Addr(), m.Dir, m.Dir)
	}
	if err := m.Serve(ctx); err != nil {
		return err
	}
	attrs := []any{"mountpoint", m.Dir}
	var se signalError
	if errors.As(context.Cause(ctx), &se) {
		attrs = append(attrs, "signal", se.sig.String())
	}
	cfg.Logger.Info("unmounted", attrs...)
	return nil
}

// signalError is the cause of the end of a mount's context: a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "signal " + e.sig.String() }
