package mountlib

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
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owfs"
)

// Mounted is a live mount of an owserver.
type Mounted struct {
	Dir    string
	Server *fuse.Server
	Client *owclient.Client
	Cache  *cache.Cache
	Root   *owfs.Root

	log     *slog.Logger
	entry   MountEntry    // this mount in mountinfo; zero if unknown
	served  chan struct{} // closed once the kernel has ended the FUSE session
	metrics *metrics      // nil unless Config.MetricsListen
	stopper *stopper      // ends the calls waiting for owserver at unmount
}

// Errors of Mount that a caller may want to tell apart.
var (
	ErrNoFUSE         = errors.New("FUSE is not available (no /dev/fuse; install fuse3, or load the fuse module)")
	ErrAlreadyMounted = errors.New("already mounted")
)

// Mount checks everything it can before touching the mountpoint (the
// server answers, the mountpoint is a directory and not mounted, FUSE is
// there) and then mounts server at dir. It returns once the kernel serves
// the mount. If ctx ends first, Mount leaves nothing mounted and returns an
// error wrapping ctx's cause: wait_server may wait a minute for owserver,
// and a service being stopped meanwhile must not be left with a mount.
func Mount(ctx context.Context, server, dir string, cfg Config) (*Mounted, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// mountinfo first: resolving symlinks stats the path, and a stat of a
	// mount whose owfuse is stopped (SIGSTOP) waits for ever.
	if err := clearStale(abs, log); err != nil {
		return nil, err
	}
	// Through a symlink to a mounted directory, the mountinfo check would
	// not see the mount and the kernel would stack a second one.
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		abs = real
		if err := clearStale(abs, log); err != nil {
			return nil, err
		}
	}
	if err := checkDir(abs); err != nil {
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
		if err := mx.listen(cfg.MetricsListen, log); err != nil {
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
		if ctx.Err() != nil {
			client.Close()
			mx.close()
			return nil, fmt.Errorf("mount %s: interrupted before the mount was up: %w", abs, context.Cause(ctx))
		}
		if !cfg.LazyConnect {
			client.Close()
			mx.close()
			return nil, err
		}
		log.Warn("owserver does not answer yet; calls fail with EIO until it does", "server", client.Addr(), "err", err)
	}
	c, err := cache.New(client, cache.Options{Entries: cfg.CacheSize, Bytes: cfg.CacheBytes, Lifetimes: cfg.Lifetimes, RequestTimeout: cfg.Timeout, Readahead: cfg.Readahead, Logger: log})
	if err != nil {
		client.Close()
		mx.close()
		return nil, err
	}
	stop := newStopper()
	root := owfs.New(stoppableBackend{Backend: c, s: stop}, owfs.Options{UID: cfg.UID, GID: cfg.GID, ReadOnly: cfg.ReadOnly, Newline: cfg.Newline, Logger: log})
	mo := fuse.MountOptions{
		FsName:     client.Addr(),
		Name:       "owfuse",
		AllowOther: cfg.AllowOther,
		Debug:      cfg.FuseDebug,
		// As root, mount(2) directly rather than through fusermount3.
		DirectMount: os.Geteuid() == 0,
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
	fsOpts := root.FSOptions(mo)
	fsOpts.Logger = quietLogger(log)
	srv, err := mountFS(abs, root, stop, fsOpts)
	if err != nil {
		client.Close()
		mx.close()
		return nil, fmt.Errorf("mount %s: %w", abs, err)
	}
	m := &Mounted{Dir: abs, Server: srv, Client: client, Cache: c, Root: root, log: log, metrics: mx, stopper: stop}
	m.served = make(chan struct{})
	go func() { srv.Wait(); close(m.served) }()
	if ms, err := Mounts(abs); err == nil && len(ms) > 0 {
		m.entry = ms[len(ms)-1]
	}
	if mx != nil {
		mx.mounted.Store(m)
	}
	if ctx.Err() != nil { // ended while the kernel mounted
		m.Unmount()
		return nil, fmt.Errorf("mount %s: interrupted before the mount was up: %w", abs, context.Cause(ctx))
	}
	return m, nil
}

// mountFS is fs.Mount, with the calls that may wait for owserver under
// stop.
func mountFS(dir string, root fs.InodeEmbedder, stop *stopper, opts *fs.Options) (*fuse.Server, error) {
	raw := stoppableFS{RawFileSystem: fs.NewNodeFS(root, opts), s: stop}
	srv, err := fuse.NewServer(raw, dir, &opts.MountOptions)
	if err != nil {
		return nil, explainFusermount(err)
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		return nil, err
	}
	return srv, nil
}

// explainFusermount adds the likely cause to go-fuse's "fusermount exited
// with code 256": fusermount's own words went to a daemon's log, or
// nowhere.
func explainFusermount(err error) error {
	if !strings.HasPrefix(err.Error(), "fusermount exited") {
		return err
	}
	why := "see fusermount3's message in the log"
	if syscall.Access("/dev/fuse", 6 /* R_OK|W_OK */) != nil {
		why = "this user cannot open /dev/fuse for reading and writing"
	}
	return fmt.Errorf("fusermount3 could not mount (%s): %s", strings.TrimSpace(err.Error()), why)
}

// clearStale refuses a mountpoint that is mounted, except that a FUSE
// mount whose server died (a killed owfuse) is cleared, with a log line.
// It reads mountinfo and never touches the path itself.
func clearStale(abs string, log *slog.Logger) error {
	// Dead mounts may be stacked (each crash of a mount that was itself
	// over a dead one): clear them one by one, but not forever.
	for cleared := 0; ; cleared++ {
		ms, err := Mounts(abs)
		if err != nil {
			return fmt.Errorf("mountpoint %s: %w", abs, err)
		}
		if len(ms) == 0 {
			break
		}
		top := ms[len(ms)-1]
		if cleared == maxStaleMounts || !isFUSE(top.FSType) || !fuseDead(abs) {
			return fmt.Errorf("mountpoint %s: %w", abs, ErrAlreadyMounted)
		}
		log.Warn("clearing a stale mount left by an owfuse that died", "mountpoint", abs, "fstype", top.FSType, "source", top.Source)
		if err := lazyUnmount(abs); err != nil {
			return fmt.Errorf("mountpoint %s is a dead mount and could not be cleared: %w", abs, err)
		}
	}
	return nil
}

// checkDir refuses a mountpoint that is not a directory.
func checkDir(abs string) error {
	fi, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("mountpoint %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("mountpoint %s is not a directory", abs)
	}
	return nil
}

// maxStaleMounts bounds how many dead mounts stacked on one mountpoint
// are cleared before giving up.
const maxStaleMounts = 8

// isFUSE reports whether a mountinfo filesystem type is FUSE's: only those
// are ever detached as dead.
func isFUSE(fstype string) bool {
	return fstype == "fuse" || fstype == "fuseblk" || strings.HasPrefix(fstype, "fuse.") || strings.HasPrefix(fstype, "fuseblk.")
}

// fuseDead reports whether the FUSE mount at dir has lost its server.
//
// statfs(2), not stat(2): the kernel answers stat from the attributes it
// cached for attr_timeout (owfuse's dir_ttl), so a mount that had been
// stat'ed, or held a shell's working directory, looked alive for up to
// dir_ttl after its owfuse was killed, and the next mount failed with
// "already mounted" (systemd's restarts then used up its start limit).
// statfs is never cached: it goes to the FUSE connection, which fails it
// with ENOTCONN once the server's /dev/fuse is closed. (The connection's
// state under /sys/fs/fuse/connections needs fusectl mounted, which it
// often is not, and shows no "dead" flag anyway.)
//
// A server that is alive but does not answer (stopped, or stuck) is not
// dead: after deadCheckTimeout the mount counts as live.
func fuseDead(dir string) bool {
	done := make(chan error, 1)
	go func() {
		var st syscall.Statfs_t
		done <- syscall.Statfs(dir, &st)
	}()
	select {
	case err := <-done:
		return errors.Is(err, syscall.ENOTCONN) || errors.Is(err, syscall.ECONNABORTED)
	case <-time.After(deadCheckTimeout):
		return false // the goroutine stays blocked until the server answers or dies
	}
}

// deadCheckTimeout is how long fuseDead waits for statfs on a mount.
const deadCheckTimeout = 2 * time.Second

// waitServer pings owserver, retrying for up to cfg.WaitServer; each
// ping may take up to cfg.Timeout.
//
// The last pause is cut short at the deadline, and a last ping made
// there: giving up as soon as the next pause would pass the deadline
// gave up well before it (the pauses double), with owserver perhaps
// starting meanwhile.
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
		// Something answered, in another protocol (a web server on the
		// port): waiting will not change that, and it is not unreachable.
		var pe *owclient.ProtocolError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s does not answer as owserver does: %w", client.Addr(), err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return &UnreachableError{Addr: client.Addr(), Err: err}
		}
		log.Info("waiting for owserver", "server", client.Addr(), "err", err)
		select {
		case <-time.After(min(backoff, left)):
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

// Error says which owserver did not answer, and why in a few words.
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
// whether the fallback was needed; it is logged as soon as it is done.
//
// First the calls waiting for owserver are ended (see stopper): their
// callers get EIO at once instead of holding the mount busy until the
// request timeout, and new calls fail with EIO.
//
// go-fuse's Server.Unmount is not used: on a busy mount it tried five
// times over 0.3 s, running fusermount3 after each failed umount2, before
// the lazy detach could start. A mount held by a working directory or an
// idle open file stays busy however long one waits; only callers whose
// calls were just under way may be about to close their files, so only
// then is the plain unmount retried, for up to busyPatience.
func (m *Mounted) Unmount() (lazy bool, err error) {
	defer m.Close()
	log := m.log
	underway, cancelled, left := m.stopper.stop(stopGrace, stopLimit)
	if cancelled > 0 {
		log.Info("unmount: ended the calls still waiting for owserver", "calls", cancelled, "not_returned", left)
	}
	// Unmounting goes by path, and the path may now hold another mount:
	// ours detached by hand (umount -l) and a new one made there, or one
	// stacked over ours. That one is not ours to take away. mountinfo
	// has no identity that outlives a mount: its IDs and device numbers
	// go to the next mount as soon as this one is gone. So the top mount
	// is taken for ours only while our FUSE session lives and it has our
	// device number, type and source.
	if ms, err := Mounts(m.Dir); err == nil && m.entry.Dev != "" && (len(ms) == 0 || !m.is(ms[len(ms)-1]) || m.ended()) {
		if m.ended() || !slices.ContainsFunc(ms, m.is) {
			log.Info("unmount: already unmounted or detached", "mountpoint", m.Dir)
		} else {
			log.Warn("unmount: another mount covers this one; left in place, it ends when owfuse exits", "mountpoint", m.Dir)
		}
		return false, nil
	}
	patience := time.Duration(0)
	if underway > 0 {
		patience = busyPatience
	}
	err = unmountWithin(m.Dir, patience)
	switch {
	case err == nil || errors.Is(err, syscall.EINVAL):
		// EINVAL: not mounted any more (umount(8) ran first).
		m.waitLoops(log)
		return false, nil
	case !errors.Is(err, syscall.EBUSY):
		// Not a busy mount: detaching it lazily would hide why.
		return false, err
	}
	if lerr := lazyUnmount(m.Dir); lerr != nil {
		return true, fmt.Errorf("unmount %s: %w; lazy unmount: %w", m.Dir, err, lerr)
	}
	// Detached: whoever still holds it (a shell's cwd, an open file) may
	// do so for ever, and no call of theirs is under way. Once this
	// process exits the kernel ends the connection, and they get ENOTCONN.
	// Nothing is waited for: the kernel ends the session only when the
	// last of them lets go.
	log.Warn("mount was busy; detached it lazily", "mountpoint", m.Dir)
	return true, nil
}

// waitLoops waits, for up to loopsLimit, for the serve loops to return
// once the mount is gone. They return when the kernel ends the
// connection, which it does only when the filesystem is mounted nowhere:
// a copy of the mount in another mount namespace (unshare -m, a systemd
// service's PrivateTmp) keeps it alive, and waiting for that held owfuse
// as long as the namespace lived (a service's: for ever). This process's exit ends the connection for
// those copies too, as for a lazy detach.
func (m *Mounted) waitLoops(log *slog.Logger) {
	select {
	case <-m.served:
	case <-time.After(loopsLimit):
		log.Warn("unmounted, but the filesystem is still mounted in another mount namespace; it ends when owfuse exits", "mountpoint", m.Dir)
	}
}

// loopsLimit bounds waitLoops: after an unmount the kernel ends the
// connection at once, or not before the last copy of the mount goes.
const loopsLimit = 500 * time.Millisecond

// busyPatience is how long Unmount retries a busy mount whose callers'
// calls were under way at the signal (go-fuse allowed 0.3 s).
const busyPatience = 300 * time.Millisecond

// unmountWithin unmounts dir, retrying while it is busy for up to
// patience: the kernel tells nobody when a mount stops being busy.
func unmountWithin(dir string, patience time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		err := unmountNow(dir)
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// unmountNow unmounts dir unless it is busy: with umount2(2) as root (as
// Mount mounted it directly then), with fusermount3 -u otherwise.
func unmountNow(dir string) error {
	if os.Geteuid() == 0 {
		if err := syscall.Unmount(dir, 0); err != nil {
			return fmt.Errorf("umount %s: %w", dir, err)
		}
		return nil
	}
	prog := "fusermount3"
	if _, err := exec.LookPath(prog); err != nil {
		prog = "fusermount" // FUSE 2's, as go-fuse falls back to
	}
	out, err := exec.Command(prog, "-u", dir).CombinedOutput()
	if err != nil {
		text := strings.TrimSpace(string(out))
		switch {
		case strings.Contains(text, "busy"):
			err = syscall.EBUSY
		case strings.Contains(text, "not mounted") || strings.Contains(text, "not found in /etc/mtab"):
			err = syscall.EINVAL
		}
		return fmt.Errorf("%s -u %s: %w: %s", prog, dir, err, text)
	}
	return nil
}

// How long Unmount lets the calls under way finish before it cancels
// them, and then waits for the cancelled ones to return.
const (
	stopGrace = 200 * time.Millisecond
	stopLimit = 500 * time.Millisecond
)

// is reports whether a mountinfo entry may be this mount.
func (m *Mounted) is(e MountEntry) bool {
	return e.Dev == m.entry.Dev && e.FSType == m.entry.FSType && e.Source == m.entry.Source
}

// ended reports whether the kernel has ended the FUSE session: the
// filesystem is mounted nowhere any more.
func (m *Mounted) ended() bool {
	select {
	case <-m.served:
		return true
	default:
		return false
	}
}

// Close releases the owserver connections and the metrics listener, once
// the filesystem is unmounted.
func (m *Mounted) Close() {
	m.Cache.Close()
	m.Client.Close()
	m.metrics.close()
}

// lazyUnmount detaches a mount now and lets the kernel finish when it is
// no longer busy: umount2(2) with MNT_DETACH or umount -l as root,
// fusermount3 -u -z otherwise.
func lazyUnmount(dir string) error {
	if os.Geteuid() == 0 && syscall.Unmount(dir, syscall.MNT_DETACH) == nil {
		return nil
	}
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
