package mountlib

import (
	"bufio"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// MountEntry is one mount at a directory, from /proc/self/mountinfo.
type MountEntry struct {
	// Dev is the filesystem's device number, major:minor: unique among
	// the filesystems that exist, unlike a mount's ID, which the kernel
	// gives the next mount as soon as this one is gone.
	Dev                 string
	Dir, FSType, Source string
	Options             []string // the mount's and the filesystem's, as /proc/mounts joins them
}

// Mounts returns the mounts at dir, oldest first, from
// /proc/self/mountinfo: never by stat'ing dir, which fails on a dead FUSE
// mount and hangs on a pending automount.
func Mounts(dir string) ([]MountEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseMountinfo(f, dir)
}

// ParseMountinfo returns the mounts at dir ("": every mount) listed in r,
// a mountinfo file (proc(5)): this process's, or another's, in its mount
// namespace.
func ParseMountinfo(r io.Reader, dir string) ([]MountEntry, error) {
	var out []MountEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if !ok || len(a) < 6 || len(b) < 3 {
			continue
		}
		at := unescapeMountinfo(a[4])
		if dir != "" && at != dir {
			continue
		}
		opts := strings.Split(a[5], ",")
		for _, o := range strings.Split(b[2], ",") {
			if !slices.Contains(opts, o) {
				opts = append(opts, o)
			}
		}
		out = append(out, MountEntry{Dev: a[2], Dir: at, FSType: b[0], Source: unescapeMountinfo(b[1]), Options: opts})
	}
	return out, sc.Err()
}

// unescapeMountinfo undoes the octal escapes of mountinfo (\040 for space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
