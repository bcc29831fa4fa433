package mountlib_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

func TestParseOptions(t *testing.T) {
	def := mountlib.DefaultConfig()
	cases := []struct {
		list  string
		check func(mountlib.Config) bool
		err   string
	}{
		{"ro,allow_other,temp_scale=F", func(c mountlib.Config) bool {
			return c.ReadOnly && c.AllowOther && c.TempScale == owclient.Fahrenheit
		}, ""},
		{"ro,rw", func(c mountlib.Config) bool { return !c.ReadOnly }, ""},
		{"volatile_ttl=5s,dir_ttl=0,cache_size=10", func(c mountlib.Config) bool {
			return c.Lifetimes.Volatile == 5*time.Second && c.Lifetimes.Directory == 0 && c.CacheSize == 10
		}, ""},
		{"uid=1000,gid=100,newline=false,padded", func(c mountlib.Config) bool {
			return c.UID == 1000 && c.GID == 100 && !c.Newline && c.Padded
		}, ""},
		// mount(8)'s, mount.fuse3's and systemd's options are ignored
		{"_netdev,nofail,auto,noauto,user,users,dev,nodev,suid,nosuid,exec,noexec,rw,defaults,x-systemd.automount,x-mount.mkdir,comment=foo",
			func(c mountlib.Config) bool { return reflect.DeepEqual(c, def) }, ""},
		{"wait_server=60s,lazy_connect,log_file=/var/log/owfuse.log,metrics_listen=127.0.0.1:9104", func(c mountlib.Config) bool {
			return c.WaitServer == time.Minute && c.LazyConnect && c.LogFile == "/var/log/owfuse.log" && c.MetricsListen == "127.0.0.1:9104"
		}, ""},
		{"bogus", nil, `unknown option "bogus"`},
		{"ro,frobnicate=3", nil, `unknown option "frobnicate"`},
		{"temp_scale=X", nil, "temp_scale"},
		{"timeout", nil, "needs a value"},
		{"volatile_ttl=-1s", nil, "negative"},
		{"cache_size=0", nil, "below 1"},
		{"ro=maybe", nil, "ro"},
		// numeric options are bounded by what makes sense, and the error
		// names the option
		{"readahead=64,pool_size=64,cache_size=1048576", func(c mountlib.Config) bool {
			return c.Readahead == 64 && c.PoolSize == 64 && c.CacheSize == 1<<20
		}, ""},
		{"readahead=1000000", nil, "option readahead: 1000000 is above the most, 64"},
		{"pool_size=65", nil, "option pool_size: 65 is above the most, 64"},
		{"cache_size=1048577", nil, "option cache_size: 1048577 is above the most, 1048576"},
		{"cache_bytes=32MiB", func(c mountlib.Config) bool { return c.CacheBytes == 32<<20 }, ""},
		{"cache_bytes=2G", nil, "option cache_bytes: 2G is above the most, 1GiB"},
		{"cache_bytes=1048576", func(c mountlib.Config) bool { return c.CacheBytes == 1<<20 }, ""},
		{"cache_bytes=512K", nil, "option cache_bytes: 512K is below 1MiB"},
		{"cache_bytes=16MB,cache_size=100", func(c mountlib.Config) bool { return c.CacheBytes == 16<<20 && c.CacheSize == 100 }, ""},
		{"cache_bytes=lots", nil, `option cache_bytes: "lots" is not a size`},
		{"cache_bytes=-1M", nil, "not a size"},
		{"cache_bytes=99999999999G", nil, "not a size"},
		{"fixed_ttl=24h,stable_ttl=0,volatile_ttl=1ms,dir_ttl=1h", func(c mountlib.Config) bool {
			return c.Lifetimes.Fixed == 24*time.Hour && c.Lifetimes.Volatile == time.Millisecond
		}, ""},
		{"fixed_ttl=25h", nil, "option fixed_ttl: 25h is above the most, 24h"},
		{"dir_ttl=2562047h", nil, "option dir_ttl"},
		{"timeout=0", nil, "option timeout: 0 is below 10ms"},
		{"timeout=11m", nil, "option timeout: 11m is above the most"},
		{"timeout=10ms,wait_server=1h", func(c mountlib.Config) bool { return c.Timeout == 10*time.Millisecond && c.WaitServer == time.Hour }, ""},
		{"wait_server=2h", nil, "option wait_server: 2h is above the most, 1h"},
	}
	for _, tc := range cases {
		c := mountlib.DefaultConfig()
		err := mountlib.ParseOptions(&c, tc.list)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseOptions(%q) error %v, want one containing %q", tc.list, err, tc.err)
			}
			continue
		}
		if err != nil || !tc.check(c) {
			t.Errorf("ParseOptions(%q) = %+v, %v", tc.list, c, err)
		}
	}
}

func TestSettingsHaveFlagsAndDefaults(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range mountlib.Settings {
		if seen[s.Name] || s.Usage == "" || strings.Contains(s.Name, "-") || s.Default() == "" && !s.Bool && s.DefaultText != "" {
			t.Errorf("setting %q: duplicate, undocumented or misspelt", s.Name)
		}
		seen[s.Name] = true
		c := mountlib.DefaultConfig()
		if d := s.Get(c); d != "" || s.Bool {
			if err := s.Set(&c, d); err != nil {
				t.Errorf("setting %s does not accept its own default %q: %v", s.Name, d, err)
			}
		}
		if got, ok := mountlib.LookupSetting(s.FlagName()); !ok || got.Name != s.Name {
			t.Errorf("flag --%s does not find setting %s", s.FlagName(), s.Name)
		}
	}
}
