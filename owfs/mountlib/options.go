package mountlib

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

// Config is everything `owfuse mount` can be told, as flags or as -o
// options: one table (Settings) serves both.
type Config struct {
	TempScale     owclient.TempScale
	PressureScale owclient.PressureScale
	Format        owclient.DeviceFormat
	Uncached      bool // every read asks the bus (owserver's FLG_UNCACHED)
	Padded        bool // values as owserver pads them ("     21.5"), not trimmed
	HideSpecial   bool // no bus.N, settings, uncached… in listings
	Newline       bool // a newline after text values

	ReadOnly           bool
	AllowOther         bool
	DefaultPermissions bool
	UID, GID           uint32

	Lifetimes  cache.Lifetimes
	CacheSize  int
	CacheBytes int64         // estimated bytes of cached listings and values
	Timeout    time.Duration // per owserver request
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
		Newline:    true,
		UID:        uint32(os.Getuid()),
		GID:        uint32(os.Getgid()),
		Lifetimes:  cache.DefaultLifetimes(),
		CacheSize:  cache.DefaultEntries,
		CacheBytes: cache.DefaultBytes,
		Timeout:    10 * time.Second,
		PoolSize:   owclient.DefaultPoolSize,
		Readahead:  owclient.DefaultPoolSize / 2,
	}
}

// Setting is one setting of Config, known by the same name as a flag
// (--temp-scale) and as a mount option (-o temp_scale=F).
type Setting struct {
	Name  string // mount-option spelling, with underscores
	Usage string
	Bool  bool // a switch: "-o ro" or "--ro"; takes =true/=false too
	// DefaultText describes the default where the value would mislead,
	// such as the uid of whoever reads the help.
	DefaultText string
	set         func(*Config, string) error
	get         func(Config) string
}

// FlagName is the option's command-line flag name, with dashes.
func (o Setting) FlagName() string { return strings.ReplaceAll(o.Name, "_", "-") }

// Default returns the option's value in DefaultConfig, as text, or its
// DefaultText.
func (o Setting) Default() string {
	if o.DefaultText != "" {
		return o.DefaultText
	}
	return o.get(DefaultConfig())
}

// Get returns the option's value in c, as text.
func (o Setting) Get(c Config) string { return o.get(c) }

// Set applies a value given as text.
func (o Setting) Set(c *Config, value string) error {
	if err := o.set(c, value); err != nil {
		return fmt.Errorf("option %s: %w", o.Name, err)
	}
	return nil
}

func boolOpt(name, usage string, field func(*Config) *bool) Setting {
	return Setting{Name: name, Usage: usage, Bool: true,
		set: func(c *Config, v string) error {
			if v == "" {
				*field(c) = true
				return nil
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*field(c) = b
			return nil
		},
		get: func(c Config) string { return strconv.FormatBool(*field(&c)) }}
}

func stringOpt(name, usage string, field func(*Config) *string) Setting {
	return Setting{Name: name, Usage: usage,
		set: func(c *Config, v string) error { *field(c) = v; return nil },
		get: func(c Config) string { return *field(&c) }}
}

// Bounds of the numeric settings. Each is what makes sense for a 1-Wire
// bus, not what the types hold: a value past one used to be taken as
// given, and -o readahead=1000000 started a million goroutines that
// idled at 549 MB and kept the daemon from exiting on SIGTERM.
const (
	maxTTL        = 24 * time.Hour // a fixed value is worth one bus read a day
	minTimeout    = 10 * time.Millisecond
	maxTimeout    = 10 * time.Minute // a bus read takes a second at most
	maxWaitServer = time.Hour        // boot ordering, not a service supervisor
	maxCacheSize  = 1 << 20          // entries; a 1,000-device bus has ~45,000 names
	minCacheBytes = 1 << 20          // room for a few values of 64 KiB, the most a READ returns
	maxCacheBytes = 1 << 30
	// owserver grants 20 persistent connections in all by default; more
	// than 64 at once only queue in it.
	maxPoolSize  = 64
	maxReadahead = 64 // background listings at once; each is a goroutine and a connection
)

func durationOpt(name, usage string, min, max time.Duration, field func(*Config) *time.Duration) Setting {
	return Setting{Name: name, Usage: usage,
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			switch {
			case err != nil:
				err = fmt.Errorf("%q is not a duration such as 500ms, 30s or 2m", v)
			case d < 0:
				err = fmt.Errorf("negative duration %s", v)
			case d < min:
				err = fmt.Errorf("%s is below %s", v, formatDuration(min))
			case d > max:
				err = fmt.Errorf("%s is above the most, %s", v, formatDuration(max))
			}
			*field(c) = d
			return err
		},
		get: func(c Config) string { return formatDuration(*field(&c)) }}
}

// formatDuration writes d as a person would: 1h, 1m30s, 500ms.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func intOpt(name, usage string, min, max int, field func(*Config) *int) Setting {
	return Setting{Name: name, Usage: usage,
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			switch {
			case err != nil:
				err = fmt.Errorf("%q is not a whole number", v)
			case n < min:
				err = fmt.Errorf("%d is below %d", n, min)
			case n > max:
				err = fmt.Errorf("%d is above the most, %d", n, max)
			}
			*field(c) = n
			return err
		},
		get: func(c Config) string { return strconv.Itoa(*field(&c)) }}
}

// byteSuffixes are the units bytesOpt takes, powers of 1024 whichever
// spelling ("16M", "16MiB", "16MB" are all 16 MiB, as in GOMEMLIMIT).
var byteSuffixes = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"KB", 10}, {"MB", 20}, {"GB", 30}, {"K", 10}, {"M", 20}, {"G", 30}, {"B", 0}}

// parseBytes reads a size in bytes: a number with an optional unit.
func parseBytes(v string) (int64, error) {
	num, shift := v, uint(0)
	for _, u := range byteSuffixes {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > 1<<(62-shift) {
		return 0, fmt.Errorf("%q is not a size in bytes (such as 16MiB)", v)
	}
	return n << shift, nil
}

func bytesOpt(name, usage string, min, max int64, field func(*Config) *int64) Setting {
	return Setting{Name: name, Usage: usage,
		set: func(c *Config, v string) error {
			n, err := parseBytes(v)
			switch {
			case err != nil:
			case n < min:
				err = fmt.Errorf("%s is below %s", v, formatBytes(min))
			case n > max:
				err = fmt.Errorf("%s is above the most, %s", v, formatBytes(max))
			}
			*field(c) = n
			return err
		},
		get: func(c Config) string { return formatBytes(*field(&c)) }}
}

// formatBytes writes n in the largest unit that divides it.
func formatBytes(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func idOpt(name, usage, defaultText string, field func(*Config) *uint32) Setting {
	return Setting{Name: name, Usage: usage, DefaultText: defaultText,
		set: func(c *Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return fmt.Errorf("%q is not a numeric id (0 to %d)", v, uint32(math.MaxUint32))
			}
			*field(c) = uint32(n)
			return nil
		},
		get: func(c Config) string { return strconv.FormatUint(uint64(*field(&c)), 10) }}
}

// oneOf words a parse error of a value that must be one of a list.
func oneOf(v string, err error, list string) error {
	if err != nil {
		return fmt.Errorf("%q is not one of %s", v, list)
	}
	return nil
}

// Settings lists every mount setting.
var Settings = []Setting{
	{Name: "temp_scale", Usage: "temperature `SCALE`: C, F, K or R",
		set: func(c *Config, v string) (err error) {
			c.TempScale, err = owclient.ParseTempScale(v)
			return oneOf(v, err, "C, F, K or R")
		},
		get: func(c Config) string { return c.TempScale.String() }},
	{Name: "pressure_scale", Usage: "pressure `UNIT`: mbar, atm, mmHg, inHg, psi or Pa",
		set: func(c *Config, v string) (err error) {
			c.PressureScale, err = owclient.ParsePressureScale(v)
			return oneOf(v, err, "mbar, atm, mmHg, inHg, psi or Pa")
		},
		get: func(c Config) string { return c.PressureScale.String() }},
	{Name: "format", Usage: "device name `FORMAT`: f.i, fi, f.i.c, f.ic, fi.c or fic",
		set: func(c *Config, v string) (err error) {
			c.Format, err = owclient.ParseDeviceFormat(v)
			return oneOf(v, err, "f.i, fi, f.i.c, f.ic, fi.c or fic")
		},
		get: func(c Config) string { return c.Format.String() }},
	boolOpt("uncached", "every read asks the 1-Wire bus, bypassing owserver's own cache", func(c *Config) *bool { return &c.Uncached }),
	boolOpt("padded", "values space-padded as owserver formats them, instead of trimmed", func(c *Config) *bool { return &c.Padded }),
	boolOpt("newline", "end text values with a newline (newline=false: exactly owserver's bytes)", func(c *Config) *bool { return &c.Newline }),
	boolOpt("hide_special", "leave bus.N, settings, uncached, system, statistics, structure, simultaneous and alarm out of listings", func(c *Config) *bool { return &c.HideSpecial }),
	boolOpt("ro", "read-only mount: every write fails with EROFS", func(c *Config) *bool { return &c.ReadOnly }),
	boolOpt("allow_other", "let other users use the mount (needs user_allow_other in /etc/fuse.conf unless root)", func(c *Config) *bool { return &c.AllowOther }),
	boolOpt("default_permissions", "let the kernel check file modes (otherwise only owfuse's own checks apply)", func(c *Config) *bool { return &c.DefaultPermissions }),
	idOpt("uid", "numeric `UID` owning every file", "the user who mounts", func(c *Config) *uint32 { return &c.UID }),
	idOpt("gid", "numeric `GID` of every file", "the group of the user who mounts", func(c *Config) *uint32 { return &c.GID }),
	durationOpt("fixed_ttl", "cache values that never change (type, ROM id) for `DURATION`; 0 disables", 0, maxTTL, func(c *Config) *time.Duration { return &c.Lifetimes.Fixed }),
	durationOpt("stable_ttl", "cache values that change when written (alias, temphigh, settings) for `DURATION`; 0 disables", 0, maxTTL, func(c *Config) *time.Duration { return &c.Lifetimes.Stable }),
	durationOpt("volatile_ttl", "cache measurements (temperature, counters) for `DURATION`; 0 disables", 0, maxTTL, func(c *Config) *time.Duration { return &c.Lifetimes.Volatile }),
	durationOpt("dir_ttl", "cache directory listings, names and attributes for `DURATION`; 0 disables", 0, maxTTL, func(c *Config) *time.Duration { return &c.Lifetimes.Directory }),
	intOpt("cache_size", "keep at most `N` listings and values in the cache", 1, maxCacheSize, func(c *Config) *int { return &c.CacheSize }),
	bytesOpt("cache_bytes", "keep at most `SIZE` bytes of listings and values in the cache (estimated; units K, M, G), dropping the least recently used first", minCacheBytes, maxCacheBytes, func(c *Config) *int64 { return &c.CacheBytes }),
	durationOpt("timeout", "give up on an owserver request after `DURATION` (the call fails with EIO)", minTimeout, maxTimeout, func(c *Config) *time.Duration { return &c.Timeout }),
	intOpt("pool_size", "open at most `N` connections to owserver at once", 1, maxPoolSize, func(c *Config) *int { return &c.PoolSize }),
	intOpt("readahead", "after a listing, list `N` of its device directories at once in the background (speeds up ls -R and find on big buses); 0 disables", 0, maxReadahead, func(c *Config) *int { return &c.Readahead }),
	durationOpt("wait_server", "at start, wait up to `DURATION` for owserver to answer before mounting (for boot: -o _netdev,nofail,wait_server=60s)", 0, maxWaitServer, func(c *Config) *time.Duration { return &c.WaitServer }),
	boolOpt("lazy_connect", "mount even if owserver does not answer yet; calls fail with EIO until it does", func(c *Config) *bool { return &c.LazyConnect }),
	boolOpt("daemon", "return once the mount answers and serve it in the background (always on as a mount helper)", func(c *Config) *bool { return &c.Daemon }),
	stringOpt("log_file", "log to `FILE` (default: stderr in the foreground, syslog for a daemon)", func(c *Config) *string { return &c.LogFile }),
	{Name: "metrics_listen", Usage: "serve Prometheus metrics over HTTP at `ADDRESS`, e.g. 127.0.0.1:9104 (default: off)",
		set: func(c *Config, v string) error {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return fmt.Errorf("%q is not an address such as 127.0.0.1:9104 or :9104", v)
			}
			c.MetricsListen = v
			return nil
		},
		get: func(c Config) string { return c.MetricsListen }},
	boolOpt("debug", "log owfuse's work and every owserver message to stderr", func(c *Config) *bool { return &c.Debug }),
	boolOpt("fuse_debug", "log every FUSE call to stderr", func(c *Config) *bool { return &c.FuseDebug }),
}

// LookupSetting finds an option by its mount-option or flag name.
func LookupSetting(name string) (Setting, bool) {
	name = strings.ReplaceAll(name, "-", "_")
	for _, o := range Settings {
		if o.Name == name {
			return o, true
		}
	}
	return Setting{}, false
}

// ignoredOptions are mount(8)'s, mount.fuse3's and systemd's business:
// accepted in -o lists (an fstab line carries them) and otherwise ignored.
var ignoredOptions = map[string]bool{
	"_netdev": true, "nofail": true, "auto": true, "noauto": true, "user": true, "users": true,
	"nouser": true, "owner": true, "group": true, "dev": true, "nodev": true, "suid": true, "nosuid": true,
	"exec": true, "noexec": true, "defaults": true,
}

// IgnoredOption reports whether a -o option is accepted and ignored.
func IgnoredOption(kv string) bool {
	key, _, _ := strings.Cut(kv, "=")
	return ignoredOptions[key] || strings.HasPrefix(key, "x-") || key == "comment"
}

// ParseOptions applies a -o list ("ro,temp_scale=F,volatile_ttl=5s") to c.
// "rw" undoes "ro"; the options of mount(8), mount.fuse3 and systemd
// (_netdev, nofail, x-*, …) are ignored. An unknown option is an error
// naming it.
func ParseOptions(c *Config, list string) error {
	return eachOption(list, func(o Setting, value string) error { return o.Set(c, value) })
}

// OptionFlags rewrites a -o list as the equivalent flags, in order:
// "ro,timeout=5s,_netdev" is --ro --timeout=5s. It checks the names, not
// the values.
func OptionFlags(list string) ([]string, error) {
	var flags []string
	err := eachOption(list, func(o Setting, value string) error {
		if value == "" && o.Bool {
			flags = append(flags, "--"+o.FlagName())
		} else {
			flags = append(flags, "--"+o.FlagName()+"="+value)
		}
		return nil
	})
	return flags, err
}

// eachOption calls apply for each option of a -o list that is owfuse's,
// with its value ("" for a bare switch; "rw" is ro=false).
func eachOption(list string, apply func(o Setting, value string) error) error {
	for _, kv := range strings.Split(list, ",") {
		if kv == "" || IgnoredOption(kv) {
			continue
		}
		key, value, hasValue := strings.Cut(kv, "=")
		if key == "rw" && !hasValue {
			key, value = "ro", "false"
		}
		o, ok := LookupSetting(key)
		if !ok {
			return fmt.Errorf("unknown option %q (known: %s)", key, knownNames())
		}
		if hasValue && value == "" && !o.Bool {
			return fmt.Errorf("option %s needs a value", key)
		}
		if !hasValue && !o.Bool {
			return fmt.Errorf("option %s needs a value: -o %s=…", key, key)
		}
		if err := apply(o, value); err != nil {
			return err
		}
	}
	return nil
}

func knownNames() string {
	names := make([]string, len(Settings))
	for i, o := range Settings {
		names[i] = o.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// ClientFlags are the owserver flags the mount sends with every request.
func (c Config) ClientFlags() owclient.Flags {
	f := owclient.FlagOwnet.WithTempScale(c.TempScale).WithPressureScale(c.PressureScale).WithDeviceFormat(c.Format)
	if !c.HideSpecial {
		f |= owclient.FlagBusRet
	}
	if c.Uncached {
		f |= owclient.FlagUncached
	}
	if !c.Padded {
		f |= owclient.FlagTrim
	}
	return f
}
