package mountlib

import (
	"testing"

	"github.com/owfuse/owfuse/owclient/owopt"
)

// FuzzParseOptions feeds arbitrary -o lists to the path `owfuse mount`
// reads them by: rewritten into flags (OptionFlags), parsed by cli and
// checked by Settings().Parse. Errors are fine, panics and half-applied
// garbage are not.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{"ro,allow_other,temp_scale=F", "_netdev,nofail,x-systemd.automount,comment=a=b",
		"volatile_ttl=5s,dir_ttl=0", "uid=4294967296", "=,==,,", "timeout=", "ro=", "cache_size=-1",
		"readahead=1000000", "cache_bytes=2G", "timeout=1ns", "dir_ttl=100000h", "pool_size=65",
		"timeout=2.5", "timeout=1e9", "wait_server=-0", "ro=true,rw,ro=maybe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		c, err := parseList(list)
		if err == nil {
			if c.CacheSize < 1 || c.PoolSize < 1 || c.Timeout < 0 || c.Lifetimes.Volatile < 0 {
				t.Fatalf("%q accepted with an impossible result %+v", list, c)
			}
			// Every number within its bound, whatever the input.
			l := c.Lifetimes
			if c.CacheSize > maxCacheSize || c.PoolSize > maxPoolSize || c.Readahead < 0 || c.Readahead > maxReadahead ||
				c.CacheBytes < minCacheBytes || c.CacheBytes > maxCacheBytes || c.Timeout < owopt.MinTimeout || c.Timeout > owopt.MaxTimeout ||
				c.WaitServer < 0 || c.WaitServer > maxWaitServer ||
				max(l.Fixed, l.Stable, l.Volatile, l.Directory) > maxTTL || min(l.Fixed, l.Stable, l.Volatile, l.Directory) < 0 {
				t.Fatalf("%q accepted out of bounds: %+v", list, c)
			}
		}
	})
}
