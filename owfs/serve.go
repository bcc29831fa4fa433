package owfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

// IsUnreachable reports whether a mount failed because owserver did not
// answer, in this process or in a daemon child.
func IsUnreachable(err error) bool {
	var ue *UnreachableError
	var ce *ChildError
	return errors.As(err, &ue) || (errors.As(err, &ce) && ce.Unreachable)
}

// Serve mounts and serves until SIGINT or SIGTERM; with cfg.Daemon it
// returns as soon as a detached copy of itself reports the mount live.
func Serve(ctx context.Context, server, dir string, cfg Config, stderr io.Writer) error {
	if cfg.Daemon && !IsDaemonChild() {
		dir, logFile, err := absPaths(dir, cfg.LogFile)
		if err != nil {
			return err
		}
		return Daemonize(os.Args[1:], dir, logFile, cfg.WaitServer+cfg.Timeout+30*time.Second)
	}
	if IsDaemonChild() {
		dir, cfg.LogFile = daemonPaths(dir, cfg.LogFile)
	}
	// A mount runs for months on small machines and holds a go-fuse node
	// per name the kernel knows (44,000 on a 1,000-device bus, ~29 MB):
	// collect garbage sooner than Go's default, which lets the heap
	// double, and harder near 48 MiB. Measured on that bus: peak RSS of a
	// full walk 80 MiB -> 52-56 MiB, the walk itself unchanged. GOGC and
	// GOMEMLIMIT in the environment still win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(30)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
	cfg.governProcs = os.Getenv("GOMAXPROCS") == ""

	// Before mounting: a signal that comes as soon as the mount answers
	// (or the parent of a daemon returns) must unmount, not kill us.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	level := slog.LevelInfo
	if cfg.Debug || cfg.FuseDebug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if IsDaemonChild() || cfg.LogFile != "" {
		l, err := DaemonLogger(cfg.LogFile, level)
		if err != nil {
			NotifyParent(err)
			return fmt.Errorf("log file: %w", err)
		}
		cfg.Logger = l
	}

	m, err := mountInterruptibly(ctx, server, dir, cfg, sigs)
	if err != nil {
		NotifyParent(err)
		return err
	}
	NotifyParent(nil) // first: a slow log must not hold up the parent
	cfg.Logger.Info("mounted", "server", m.Client.Addr(), "mountpoint", m.Dir)
	if !IsDaemonChild() {
		fmt.Fprintf(stderr, "owfuse: serving owserver %s at %s; stop with Ctrl-C or umount %s\n", m.Client.Addr(), m.Dir, m.Dir)
	}

	done := make(chan struct{})
	go func() { m.Server.Wait(); close(done) }()
	for {
		select {
		case <-done: // unmounted from outside (umount, fusermount3 -u)
			m.Close()
			cfg.Logger.Info("unmounted", "mountpoint", m.Dir)
			return nil
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				m.Cache.Purge()
				cfg.Logger.Info("SIGHUP: caches dropped")
				continue
			}
			if _, err := m.Unmount(); err != nil { // logs a lazy detach itself
				return err
			}
			cfg.Logger.Info("unmounted", "mountpoint", m.Dir, "signal", sig.String())
			return nil
		}
	}
}

// mountInterruptibly mounts, giving up when SIGINT or SIGTERM arrives
// meanwhile (wait_server can wait a minute for owserver; systemctl stop
// must not). SIGHUP has nothing to drop yet and is ignored.
func mountInterruptibly(ctx context.Context, server, dir string, cfg Config, sigs <-chan os.Signal) (*Mounted, error) {
	mctx, cancel := context.WithCancel(ctx)
	interrupted := make(chan os.Signal, 1)
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		for {
			select {
			case sig := <-sigs:
				if sig == syscall.SIGHUP {
					continue
				}
				interrupted <- sig
				cancel()
				return
			case <-mctx.Done():
				return
			}
		}
	}()
	m, err := Mount(mctx, server, dir, cfg)
	cancel()
	<-watching
	select {
	case sig := <-interrupted:
		if err == nil {
			m.Unmount()
		}
		return nil, fmt.Errorf("interrupted by %v before the mount was up", sig)
	default:
	}
	return m, err
}
