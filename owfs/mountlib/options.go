package mountlib

import (
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owopt"
)

// Config is everything `owfuse mount` can be told, as flags, as -o
// options or as OWFUSE_ variables: one table (Settings) serves all three.
type Config struct {
	// How owserver is asked: scales, name format, uncached, timeout; the
	// toolbox's settings too.
	owopt.Request
	Padded      bool // values as owserver pads them ("     21.5"), not trimmed
	HideSpecial bool // no bus.N, settings, uncached… in listings
	Newline     bool // a newline after text values

	ReadOnly           bool
	AllowOther         bool
	DefaultPermissions bool
	UID, GID           uint32

	Lifetimes  cache.Lifetimes
	CacheSize  int
	CacheBytes int64 // estimated bytes of cached listings and values
	PoolSize   int
	Readahead  int // device listings fetched ahead at once

	WaitServer  time.Duration // wait this long for owserver's first answer before mounting
	LazyConnect bool          // mount even if owserver does not answer; EIO until it does

	Daemon        bool   // detach once the mount answers
	LogFile       string // where a daemon logs (default: syslog)
	MetricsListen string // serve Prometheus metrics at this address

	Debug     bool // owfuse's and the protocol's trace
	FuseDebug bool // go-fuse's trace of every FUSE call
	Logger    *slog.Logger
}

// DefaultConfig returns the defaults; the owner is this process's user.
func DefaultConfig() Config {
	return Config{
		Request:    owopt.DefaultRequest(),
		Newline:    true,
		UID:        uint32(os.Getuid()),
		GID:        uint32(os.Getgid()),
		Lifetimes:  cache.DefaultLifetimes(),
		CacheSize:  cache.DefaultEntries,
		CacheBytes: cache.DefaultBytes,
		PoolSize:   owclient.DefaultPoolSize,
		Readahead:  owclient.DefaultPoolSize / 2,
	}
}

// Bounds of the numeric settings. Each is what makes sense for a 1-Wire
// bus, not what the types hold: a value past one used to be taken as
// given, and -o readahead=1000000 started a million goroutines that
// held hundreds of megabytes and kept the daemon from exiting on SIGTERM. The
// timeout's are owopt's, shared with the toolbox.
const (
	maxTTL        = 24 * time.Hour // a fixed value is worth one bus read a day
	maxWaitServer = time.Hour      // boot ordering, not a service supervisor
	maxCacheSize  = 1 << 20        // entries; a 1,000-device bus has ~45,000 names
	minCacheBytes = 1 << 20        // room for a few values of 64 KiB, the most a READ returns
	maxCacheBytes = 1 << 30
	// owserver grants 20 persistent connections in all by default; more
	// than 64 at once only queue in it.
	maxPoolSize  = 64
	maxReadahead = 64 // background listings at once; each is a goroutine and a connection
)

// settings is every mount setting, in the order of the help.
var settings = func() *owopt.Table[Config] {
	shared := owopt.SharedOptions(func(c *Config) *owopt.Request { return &c.Request })
	return owopt.NewTable(owopt.ListNaming, DefaultConfig,
		shared.TempScale, shared.PressureScale, shared.Format, shared.Uncached,
		owopt.Switch("padded", "values space-padded as owserver formats them, instead of trimmed", func(c *Config) *bool { return &c.Padded }),
		owopt.Switch("newline", "end text values with a newline (newline=false: exactly owserver's bytes)", func(c *Config) *bool { return &c.Newline }),
		owopt.Switch("hide_special", "leave bus.N, settings, uncached, system, statistics, structure, simultaneous and alarm out of listings", func(c *Config) *bool { return &c.HideSpecial }),
		owopt.Switch("ro", "read-only mount: every write fails with EROFS", func(c *Config) *bool { return &c.ReadOnly }),
		owopt.Switch("allow_other", "let other users use the mount (needs user_allow_other in /etc/fuse.conf unless root)", func(c *Config) *bool { return &c.AllowOther }),
		owopt.Switch("default_permissions", "let the kernel check file modes (otherwise only owfuse's own checks apply)", func(c *Config) *bool { return &c.DefaultPermissions }),
		owopt.ID("uid", "numeric `UID` owning every file", func(c *Config) *uint32 { return &c.UID }).WithDefaultText("the user who mounts"),
		owopt.ID("gid", "numeric `GID` of every file", func(c *Config) *uint32 { return &c.GID }).WithDefaultText("the group of the user who mounts"),
		owopt.Duration("fixed_ttl", "cache values that never change (type, ROM id) for `DURATION`; 0 disables", 0, maxTTL, func(c *Config) *time.Duration { return &c.Lifetimes.Fixed }),
		owopt.Duration("stable_ttl", "cache values that change when written (alias, temphigh, settings) for `DURATION`; 0 disables", 0, maxTTL, func(c *Config) *time.Duration { return &c.Lifetimes.Stable }),
		owopt.Duration("volatile_ttl", "cache measurements (temperature, counters) for `DURATION`; 0 disables", 0, maxTTL, func(c *Config) *time.Duration { return &c.Lifetimes.Volatile }),
		owopt.Duration("dir_ttl", "cache directory listings, names and attributes for `DURATION`; 0 disables", 0, maxTTL, func(c *Config) *time.Duration { return &c.Lifetimes.Directory }),
		owopt.Whole("cache_size", "keep at most `N` listings and values in the cache", 1, maxCacheSize, func(c *Config) *int { return &c.CacheSize }),
		owopt.Size("cache_bytes", "keep at most `SIZE` bytes of listings and values in the cache (estimated; units K, M, G), dropping the least recently used first", minCacheBytes, maxCacheBytes, func(c *Config) *int64 { return &c.CacheBytes }),
		shared.Timeout.WithNote("the call then fails with EIO"),
		owopt.Whole("pool_size", "open at most `N` connections to owserver at once", 1, maxPoolSize, func(c *Config) *int { return &c.PoolSize }),
		owopt.Whole("readahead", "after a listing, list `N` of its device directories at once in the background (speeds up ls -R and find on big buses); 0 disables", 0, maxReadahead, func(c *Config) *int { return &c.Readahead }),
		owopt.Duration("wait_server", "at start, wait up to `DURATION` for owserver to answer before mounting (for boot: -o _netdev,nofail,wait_server=60s)", 0, maxWaitServer, func(c *Config) *time.Duration { return &c.WaitServer }),
		owopt.Switch("lazy_connect", "mount even if owserver does not answer yet; calls fail with EIO until it does", func(c *Config) *bool { return &c.LazyConnect }),
		owopt.Switch("daemon", "return once the mount answers and serve it in the background (always on as a mount helper)", func(c *Config) *bool { return &c.Daemon }),
		owopt.Text("log_file", "log to `FILE` (default: stderr in the foreground, syslog for a daemon)", func(c *Config) *string { return &c.LogFile }),
		owopt.Address("metrics_listen", "serve Prometheus metrics over HTTP at `ADDRESS`, e.g. 127.0.0.1:9104 (default: off)", owopt.ListenAddress, func(c *Config) *string { return &c.MetricsListen }),
		owopt.Switch("debug", "log owfuse's work and every owserver message to stderr", func(c *Config) *bool { return &c.Debug }),
		owopt.Switch("fuse_debug", "log every FUSE call to stderr", func(c *Config) *bool { return &c.FuseDebug }),
	)
}()

// Settings is the table of mount settings: their flags, -o names,
// OWFUSE_ variables, help and parser. It cannot be changed.
func Settings() *owopt.Table[Config] { return settings }

// ignoredOptions are mount(8)'s, mount.fuse3's and systemd's business:
// accepted in -o lists (an fstab line carries them) and otherwise ignored.
// The access-time and sync options change nothing for values that are
// read from owserver each time: `defaults,noatime` must still mount.
var ignoredOptions = map[string]bool{
	"_netdev": true, "nofail": true, "auto": true, "noauto": true, "user": true, "users": true,
	"nouser": true, "owner": true, "group": true, "dev": true, "nodev": true, "suid": true, "nosuid": true,
	"exec": true, "noexec": true, "defaults": true,
	"atime": true, "noatime": true, "relatime": true, "norelatime": true, "strictatime": true, "nostrictatime": true,
	"diratime": true, "nodiratime": true, "lazytime": true, "nolazytime": true,
	"sync": true, "async": true, "dirsync": true, "silent": true, "loud": true,
}

// IgnoredOptions lists the -o options that are accepted and ignored,
// sorted, for the documentation: mount(8)'s, "rw" (which undoes "ro"
// only), "x-*" (systemd's) and "comment=".
func IgnoredOptions() []string {
	names := slices.Sorted(maps.Keys(ignoredOptions))
	return append(names, "x-*", "comment=")
}

// ignoredOption reports whether a -o option is accepted and ignored.
func ignoredOption(kv string) bool {
	key, _, _ := strings.Cut(kv, "=")
	return ignoredOptions[key] || strings.HasPrefix(key, "x-") || key == "comment"
}

// OptionFlags rewrites a -o list as the equivalent flags, in order:
// "ro,timeout=5s,_netdev" is --ro --timeout=5s; "rw" is --ro=false, and
// the options of mount(8), mount.fuse3 and systemd (_netdev, nofail,
// x-*, …) are dropped. It checks the names, not the values, which
// Settings().Parse checks with the flags': -o lists are parsed as flags.
func OptionFlags(list string) ([]string, error) {
	var flags []string
	for _, kv := range strings.Split(list, ",") {
		if kv == "" || ignoredOption(kv) {
			continue
		}
		if kv == "rw" {
			kv = "ro=false"
		}
		f, err := settings.OptionFlag(kv)
		if err != nil {
			return nil, err
		}
		flags = append(flags, f)
	}
	return flags, nil
}

// ClientFlags are the owserver flags the mount sends with every request.
func (c Config) ClientFlags() owclient.Flags {
	f := c.Request.Flags(owclient.FlagOwnet)
	if !c.HideSpecial {
		f |= owclient.FlagBusRet
	}
	if !c.Padded {
		f |= owclient.FlagTrim
	}
	return f
}
