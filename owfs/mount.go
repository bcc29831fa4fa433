package owfs

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// Mounted is a live mount of an owserver.
type Mounted struct {
	Dir    string
	Server *fuse.Server
	Client *owclient.Client
	Cache  *cache.Cache
	Root   *Root

	metrics  *metrics      // nil unless Config.MetricsListen
	governor *procGovernor // nil unless Serve asked for one
}

// Errors of Mount that a caller may want to tell apart.
var (
	ErrNoFUSE         = errors.New("FUSE is not available (no /dev/fuse; install fuse3, or load the fuse module)")
	ErrAlreadyMounted = errors.New("already mounted")
)

// Mount checks everything it can before touching the mountpoint (the
// server answers, the mountpoint is a directory and not mounted, FUSE is
// there) and then mounts server at dir. It returns once the kernel serves
// the mount.
func Mount(ctx context.Context, server, dir string, cfg Config) (*Mounted, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(discard{})
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := checkMountpoint(abs, log); err != nil {
		return nil, err
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, ErrNoFUSE
	}

	opts := owclient.Options{Flags: cfg.ClientFlags(), PoolSize: cfg.PoolSize}
	if cfg.Debug {
		opts.Logger = log
	}
	var mx *metrics
	if cfg.MetricsListen != "" {
		mx = newMetrics()
		if err := mx.listen(cfg.MetricsListen); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		opts.OnMessage = mx.observe
	}
	client, err := owclient.New(server, opts)
	if err != nil {
		mx.close()
		return nil, err
	}
	if err := waitServer(ctx, client, cfg, log); err != nil {
		if !cfg.LazyConnect {
			client.Close()
			mx.close()
			return nil, err
		}
		log.Warn("owserver does not answer yet; calls fail with EIO until it does", "server", client.Addr(), "err", err)
	}
	c, err := cache.New(client, cache.Options{Entries: cfg.CacheSize, Bytes: cfg.CacheBytes, Lifetimes: cfg.Lifetimes, RequestTimeout: cfg.Timeout, Readahead: cfg.Readahead})
	if err != nil {
		client.Close()
		mx.close()
		return nil, err
	}
	root := New(c, Options{UID: cfg.UID, GID: cfg.GID, ReadOnly: cfg.ReadOnly, Newline: cfg.Newline, Logger: log, sizing: cfg.sizing})
	entry, attr, negative := root.KernelTimeouts()
	mo := fuse.MountOptions{
		FsName:     client.Addr(),
		Name:       "owfuse",
		AllowOther: cfg.AllowOther,
		Debug:      cfg.FuseDebug,
		// As root, mount(2) directly rather than through fusermount3.
		DirectMount: os.Geteuid() == 0,
		MaxWrite:    64 * 1024,
		// Values are a few bytes: one writev(2) beats go-fuse's splice
		// through a pipe (which costs three or four syscalls per read).
		DisableSplice: true,
	}
	if cfg.FuseDebug {
		mo.Logger = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	}
	if cfg.ReadOnly {
		mo.Options = append(mo.Options, "ro")
	}
	// Other users get the kernel's checks of the modes shown, as
	// gocryptfs and go-fuse's loopback do.
	if cfg.DefaultPermissions || cfg.AllowOther {
		mo.Options = append(mo.Options, "default_permissions")
	}
	var gov *procGovernor
	if cfg.governProcs && runtime.GOMAXPROCS(0) > 1 {
		gov = newProcGovernor(runtime.GOMAXPROCS(0), log)
	}
	srv, err := mountFS(abs, root, gov, &fs.Options{
		MountOptions:    mo,
		EntryTimeout:    &entry,
		AttrTimeout:     &attr,
		NegativeTimeout: &negative,
		NullPermissions: true, // a mode of 0 (neither ro nor wo) stays 0
		// go-fuse gives the root inode number 0, which stat, ls -i and
		// find's loop detection take for "no inode"; ino() keeps 1 free
		// for it.
		RootStableAttr: &fs.StableAttr{Ino: 1},
		UID:            cfg.UID,
		GID:            cfg.GID,
		Logger:         quietLogger(log),
	})
	if err != nil {
		client.Close()
		mx.close()
		return nil, fmt.Errorf("mount %s: %w", abs, err)
	}
	m := &Mounted{Dir: abs, Server: srv, Client: client, Cache: c, Root: root, metrics: mx, governor: gov}
	if mx != nil {
		mx.mounted.Store(m)
	}
	return m, nil
}

// mountFS is fs.Mount, with the FUSE calls counted by gov if there is one.
func mountFS(dir string, root fs.InodeEmbedder, gov *procGovernor, opts *fs.Options) (*fuse.Server, error) {
	raw := fs.NewNodeFS(root, opts)
	if gov != nil {
		raw = governedFS{RawFileSystem: raw, g: gov}
	}
	srv, err := fuse.NewServer(raw, dir, &opts.MountOptions)
	if err != nil {
		return nil, err
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		return nil, err
	}
	return srv, nil
}

// checkMountpoint refuses a mountpoint that is not a directory or is
// mounted, except that a mount left by a killed owfuse ("Transport endpoint
// is not connected") is cleared, with a log line.
func checkMountpoint(abs string, log *slog.Logger) error {
	if mounted, err := isMountpoint(abs); err == nil && mounted {
		_, err := os.Stat(abs)
		if !errors.Is(err, syscall.ENOTCONN) {
			return fmt.Errorf("mountpoint %s: %w", abs, ErrAlreadyMounted)
		}
		log.Warn("clearing a stale mount left by an owfuse that died", "mountpoint", abs)
		if err := lazyUnmount(abs); err != nil {
			return fmt.Errorf("mountpoint %s is a dead mount and could not be cleared: %w", abs, err)
		}
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("mountpoint %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("mountpoint %s is not a directory", abs)
	}
	return nil
}

// waitServer pings owserver, retrying for up to cfg.WaitServer.
func waitServer(ctx context.Context, client *owclient.Client, cfg Config, log *slog.Logger) error {
	deadline := time.Now().Add(cfg.WaitServer)
	backoff := 200 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		err := client.Ping(pctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().Add(backoff).After(deadline) {
			return &UnreachableError{Addr: client.Addr(), Err: err}
		}
		log.Info("waiting for owserver", "server", client.Addr(), "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return &UnreachableError{Addr: client.Addr(), Err: ctx.Err()}
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// UnreachableError is Mount's error when owserver does not answer a ping.
type UnreachableError struct {
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string {
	reason := e.Err.Error()
	var ne *net.OpError
	if errors.As(e.Err, &ne) {
		reason = ne.Err.Error()
	} else if owclient.IsTimeout(e.Err) {
		reason = "no answer"
	}
	return fmt.Sprintf("cannot reach owserver at %s: %s", e.Addr, reason)
}

// Unwrap returns the ping's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

func quietLogger(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelWarn)
}

// Unmount unmounts, falling back to a lazy unmount when the mount is busy
// (a shell's cwd inside it), and closes the connections. lazy reports
// whether the fallback was needed.
func (m *Mounted) Unmount() (lazy bool, err error) {
	defer m.Close()
	err = m.Server.Unmount()
	if err == nil {
		return false, nil
	}
	if lerr := lazyUnmount(m.Dir); lerr != nil {
		return true, fmt.Errorf("unmount %s: %v; lazy unmount: %v", m.Dir, err, lerr)
	}
	// The kernel detaches the mount and ends the session once it is idle.
	waitDone(m.Server, 5*time.Second)
	return true, nil
}

// Close releases the owserver connections and the metrics listener, once
// the filesystem is unmounted.
func (m *Mounted) Close() {
	if m.governor != nil {
		m.governor.stop()
	}
	m.Cache.Close()
	m.Client.Close()
	m.metrics.close()
}

// lazyUnmount detaches a mount now and lets the kernel finish when it is
// no longer busy: umount -l as root, fusermount3 -u -z otherwise.
func lazyUnmount(dir string) error {
	out, err := exec.Command("umount", "-l", dir).CombinedOutput()
	if err == nil {
		return nil
	}
	out2, err2 := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput()
	if err2 == nil {
		return nil
	}
	return fmt.Errorf("%s; %s", strings.TrimSpace(string(out)), strings.TrimSpace(string(out2)))
}

func waitDone(s *fuse.Server, limit time.Duration) {
	done := make(chan struct{})
	go func() { s.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
	}
}
