package mountlib

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owopt"
)

// parseList reads a -o list as `owfuse mount -o LIST` does.
func parseList(list string) (Config, error) {
	args, err := OptionFlags(list)
	if err != nil {
		return DefaultConfig(), err
	}
	return Settings().ParseArgs(args...)
}

func TestParseOptions(t *testing.T) {
	def := DefaultConfig()
	cases := []struct {
		list  string
		check func(Config) bool
		err   string
	}{
		{"ro,allow_other,temp_scale=F", func(c Config) bool {
			return c.ReadOnly && c.AllowOther && c.TempScale == owclient.Fahrenheit
		}, ""},
		{"ro,rw", func(c Config) bool { return !c.ReadOnly }, ""},
		{"ro=", func(c Config) bool { return c.ReadOnly }, ""},
		{"temp-scale=K", func(c Config) bool { return c.TempScale == owclient.Kelvin }, ""},
		{"volatile_ttl=5s,dir_ttl=0,cache_size=10", func(c Config) bool {
			return c.Lifetimes.Volatile == 5*time.Second && c.Lifetimes.Directory == 0 && c.CacheSize == 10
		}, ""},
		{"uid=1000,gid=100,newline=false,padded", func(c Config) bool {
			return c.UID == 1000 && c.GID == 100 && !c.Newline && c.Padded
		}, ""},
		// mount(8)'s, mount.fuse3's and systemd's options are ignored
		{"_netdev,nofail,auto,noauto,user,users,dev,nodev,suid,nosuid,exec,noexec,rw,defaults,x-systemd.automount,x-mount.mkdir,comment=foo,noatime,relatime,nodiratime,lazytime,sync,async",
			func(c Config) bool { return reflect.DeepEqual(c, def) }, ""},
		{"wait_server=60s,lazy_connect,log_file=/var/log/owfuse.log,metrics_listen=127.0.0.1:9104", func(c Config) bool {
			return c.WaitServer == time.Minute && c.LazyConnect && c.LogFile == "/var/log/owfuse.log" && c.MetricsListen == "127.0.0.1:9104"
		}, ""},
		{"bogus", nil, `unknown option "bogus"`},
		{"ro,frobnicate=3", nil, `unknown option "frobnicate"`},
		{"temp_scale=X", nil, `option temp_scale: "X" is not one of C, F, K or R`},
		{"timeout", nil, "needs a value"},
		{"timeout=", nil, "needs a value"},
		{"volatile_ttl=-1s", nil, "option volatile_ttl: -1s is negative"},
		{"cache_size=0", nil, "option cache_size: 0 is below 1"},
		{"ro=maybe", nil, `option ro: "maybe" is not true or false`},
		{"uid=-1", nil, `option uid: "-1" is not a numeric id`},
		{"metrics_listen=nonsense", nil, `option metrics_listen: "nonsense" is not an address`},
		// numeric options are bounded by what makes sense, and the error
		// names the option
		{"readahead=64,pool_size=64,cache_size=1048576", func(c Config) bool {
			return c.Readahead == 64 && c.PoolSize == 64 && c.CacheSize == 1<<20
		}, ""},
		{"readahead=1000000", nil, "option readahead: 1000000 is above the most, 64"},
		{"pool_size=65", nil, "option pool_size: 65 is above the most, 64"},
		{"cache_size=1048577", nil, "option cache_size: 1048577 is above the most, 1048576"},
		{"cache_bytes=32MiB", func(c Config) bool { return c.CacheBytes == 32<<20 }, ""},
		{"cache_bytes=2G", nil, "option cache_bytes: 2G is above the most, 1GiB"},
		{"cache_bytes=1048576", func(c Config) bool { return c.CacheBytes == 1<<20 }, ""},
		{"cache_bytes=512K", nil, "option cache_bytes: 512K is below 1MiB"},
		{"cache_bytes=16MB,cache_size=100", func(c Config) bool { return c.CacheBytes == 16<<20 && c.CacheSize == 100 }, ""},
		{"cache_bytes=lots", nil, `option cache_bytes: "lots" is not a size`},
		{"cache_bytes=-1M", nil, "not a size"},
		{"cache_bytes=99999999999G", nil, "not a size"},
		{"fixed_ttl=24h,stable_ttl=0,volatile_ttl=1ms,dir_ttl=1h", func(c Config) bool {
			return c.Lifetimes.Fixed == 24*time.Hour && c.Lifetimes.Volatile == time.Millisecond
		}, ""},
		{"fixed_ttl=25h", nil, "option fixed_ttl: 25h is above the most, 24h"},
		{"dir_ttl=2562047h", nil, "option dir_ttl"},
		{"timeout=0", nil, "option timeout: 0 is below 10ms"},
		{"timeout=11m", nil, "option timeout: 11m is above the most, 10m"},
		{"timeout=10ms,wait_server=1h", func(c Config) bool { return c.Timeout == 10*time.Millisecond && c.WaitServer == time.Hour }, ""},
		// a bare number is seconds, as the toolbox's --timeout takes it
		{"timeout=2.5,wait_server=60", func(c Config) bool { return c.Timeout == 2500*time.Millisecond && c.WaitServer == time.Minute }, ""},
		{"timeout=601", nil, "option timeout: 601 is above the most, 10m"},
		{"wait_server=2h", nil, "option wait_server: 2h is above the most, 1h"},
		// the last of two wins, as with flags
		{"timeout=1s,timeout=2s,ro=false,ro", func(c Config) bool { return c.Timeout == 2*time.Second && c.ReadOnly }, ""},
	}
	for _, tc := range cases {
		c, err := parseList(tc.list)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("-o %s: error %v, want one containing %q", tc.list, err, tc.err)
			}
			continue
		}
		if err != nil || !tc.check(c) {
			t.Errorf("-o %s = %+v, %v", tc.list, c, err)
		}
	}
}

// TestEnvironment: each setting reads OWFUSE_<NAME>; a flag or -o option
// wins over it, even over a bad one, and a bad one that stands is named.
func TestEnvironment(t *testing.T) {
	t.Setenv("OWFUSE_TIMEOUT", "0")
	t.Setenv("OWFUSE_RO", "yes")
	t.Setenv("OWFUSE_TEMP_SCALE", "F")
	if _, err := Settings().ParseArgs("--ro"); err == nil || err.Error() != "option timeout: 0 is below 10ms (from $OWFUSE_TIMEOUT)" {
		t.Errorf("bad $OWFUSE_TIMEOUT: %v", err)
	}
	if _, err := Settings().ParseArgs("--timeout=3"); err == nil || err.Error() != `option ro: "yes" is not true or false (from $OWFUSE_RO)` {
		t.Errorf("bad $OWFUSE_RO: %v", err)
	}
	c, err := Settings().ParseArgs("--timeout=3", "--ro=false")
	if err != nil || c.Timeout != 3*time.Second || c.ReadOnly || c.TempScale != owclient.Fahrenheit {
		t.Errorf("flags over variables: %+v, %v", c, err)
	}
	t.Setenv("OWFUSE_TIMEOUT", "") // empty: unset
	t.Setenv("OWFUSE_RO", "")
	if c, err := Settings().ParseArgs(); err != nil || c.Timeout != DefaultConfig().Timeout {
		t.Errorf("empty variables: %+v, %v", c, err)
	}
}

// TestSettingsTakeTheirDefaults: every setting is documented, and takes
// its own default, as the help and the README show it, back.
func TestSettingsTakeTheirDefaults(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Settings().Options() {
		if seen[s.Name] || s.Help == "" || strings.Contains(s.Name, "-") || s.Env != "OWFUSE_"+strings.ToUpper(s.Name) {
			t.Errorf("setting %q: duplicate, undocumented, misspelt or with another variable", s.Name)
		}
		seen[s.Name] = true
		if hasPlaceholder := strings.Count(s.Help, "`") == 2; hasPlaceholder == (s.Kind == owopt.KindSwitch) {
			t.Errorf("setting %s: a `PLACEHOLDER` in the help of every value, none in a switch's: %q", s.Name, s.Help)
		}
		d := s.Get(DefaultConfig())
		if d == "" {
			continue
		}
		if c, err := Settings().ParseArgs("--" + s.FlagName() + "=" + d); err != nil || !reflect.DeepEqual(c, DefaultConfig()) {
			t.Errorf("setting %s does not take its own default %q: %v", s.Name, d, err)
		}
	}
	if _, ok := Settings().Lookup("temp-scale"); !ok {
		t.Error("a flag name does not find its setting")
	}
	// The table is the package's: what Options returns is a copy.
	o := Settings().Options()
	o[0].Name, o[0].Aliases = "changed", append(o[0].Aliases, "x")
	if n := Settings().Options()[0]; n.Name == "changed" || len(n.Aliases) > 0 {
		t.Error("Settings() can be changed from outside")
	}
}
