package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// TestOptionsAnywhere: options go before the verb, after it and between
// paths, as ow-shell's getopt takes them. Nothing listens on localhost's
// port 4304 here, so an -s that was ignored fails the run instead of
// matching.
func TestOptionsAnywhere(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	temp := tester10 + "/temperature"
	tests := []struct {
		name   string
		owfuse []string
		tool   string
		args   []string
	}{
		{"-s after the verb", []string{"dir", "-s", addr, "/"}, "owdir", []string{"-s", addr, "/"}},
		{"-s after the path", []string{"dir", "/", "-s", addr}, "owdir", []string{"-s", addr, "/"}},
		{"-s between paths", []string{"read", temp, "-s", addr, tester28 + "/temperature"}, "owread", []string{"-s", addr, temp, tester28 + "/temperature"}},
		{"--server= attached", []string{"read", "--server=" + addr, temp}, "owread", []string{"-s", addr, temp}},
		{"-sADDR attached", []string{"-s" + addr, "read", temp}, "owread", []string{"-s", addr, temp}},
		{"-F after the path", []string{"read", temp, "-F", "-s", addr}, "owread", []string{"-s", addr, "-F", temp}},
		{"-K before the verb", []string{"-K", "-s", addr, "read", temp}, "owread", []string{"-s", addr, "-K", temp}},
		{"--Rankine", []string{"read", temp, "--Rankine", "-s", addr}, "owread", []string{"-s", addr, "--Rankine", temp}},
		{"last scale wins", []string{"read", "-F", temp, "-C", "-s", addr}, "owread", []string{"-s", addr, "-C", temp}},
		{"-f after the verb", []string{"dir", "-f", "fic", "/", "-s", addr}, "owdir", []string{"-s", addr, "-f", "fic", "/"}},
		{"cluster -qs", []string{"dir", "/", "-qs", addr}, "owdir", []string{"-s", addr, "/"}},
		{"--offset and --size after the path", []string{"read", temp, "--size", "3", "--offset", "2", "-s", addr}, "owread", []string{"-s", addr, "--size", "3", "--offset", "2", temp}},
		{"get a file", []string{"get", temp, "-s", addr}, "owget", []string{"-s", addr, temp}},
		{"get a directory", []string{"get", tester28, "-s", addr}, "owget", []string{"-s", addr, tester28}},
		{"get the root", []string{"get", "-s", addr}, "owget", []string{"-s", addr}},
		{"get both", []string{"get", "-s", addr, tester10, temp, "/settings"}, "owget", []string{"-s", addr, tester10, temp, "/settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantSame(t, owfuse(t, tt.owfuse...), run(t, nil, tt.tool, tt.args...))
		})
	}
	t.Run("negative value", func(t *testing.T) {
		// -5 is a value, not an option (owwrite needs "--" before it): the
		// write reaches owserver, which answers as it does owwrite's.
		r := owfuse(t, "write", tester10+"/temphigh", "-5", "-s", addr)
		want := run(t, nil, "owwrite", "-s", addr, tester10+"/temphigh", "--", "-5")
		if r.code != exitOK || want.code != 0 {
			t.Errorf("owfuse write -5: exit %d (stderr %q); owwrite: exit %d", r.code, r.stderr, want.code)
		}
	})
	t.Run("double dash", func(t *testing.T) {
		r := owfuse(t, "-s", addr, "dir", "--", "-s")
		wantFailure(t, r, exitError, "-s")
	})
}

// TestNothingUnparsed: a word that is not an option of the verb is an
// error naming it, wherever it stands, before any traffic (the address has
// nothing listening: a connection attempt would exit 69).
func TestNothingUnparsed(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"dir", "/", "--bogus"},
		{"--bogus", "dir", "/"},
		{"read", "/a", "-x", "/b"},
		{"present", "--size", "3", "/a"}, // an option of read, not of present
		{"mount", "a", "b", "--server", "x"},
		{"dir", "/", "-s"},
	} {
		wantFailure(t, owfuse(t, append([]string{"-s", "127.0.0.1:1"}, args...)...), exitUsage, "option")
	}
	wantFailure(t, owfuse(t, "-s", "127.0.0.1:1", "read", "--sise", "3", "/a"), exitUsage, "did you mean --size?")
}

// TestUnknownVerb: a mistyped verb is a usage error with a suggestion,
// never a mount attempt, even when its "mountpoint" is a directory.
func TestUnknownVerb(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		args  []string
		texts []string
	}{
		{[]string{"raed", tester10 + "/temperature"}, []string{`unknown command "raed"`, `did you mean "read"?`, "dir, read, write, get, present, ping, mount"}},
		{[]string{"raed", dir}, []string{`did you mean "read"?`}},
		{[]string{"moutn", "localhost", dir}, []string{`did you mean "mount"?`}},
		{[]string{"-s", "127.0.0.1:1", "wirte", "/a", "1"}, []string{`did you mean "write"?`}},
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate" (commands: dir,`}},
		{[]string{"help", "raed"}, []string{`did you mean "read"?`}},
	}
	for _, tt := range tests {
		r := owfuse(t, tt.args...)
		wantFailure(t, r, exitUsage, tt.texts...)
		if strings.Contains(r.stderr, "did you mean") == strings.Contains(r.stderr, "frobnicate") {
			t.Errorf("%q: stderr %q: a suggestion for a near miss only", tt.args, r.stderr)
		}
	}
	if isMounted(t, dir) {
		t.Errorf("%s was mounted", dir)
	}
}

// TestRejectedAtParseTime: impossible values exit 64 naming the option,
// before owfuse connects (127.0.0.1:1 has nothing listening).
func TestRejectedAtParseTime(t *testing.T) {
	t.Parallel()
	long := "/" + strings.Repeat("a", 100050)
	dir := t.TempDir()
	tests := []struct {
		name  string
		env   []string
		args  []string
		texts []string
	}{
		{"read offset past int32", nil, []string{"read", "--offset", "2147483648", "/a"}, []string{"option --offset: 2147483648 is above the most, 2147483647"}},
		{"write offset past int32", nil, []string{"write", "--offset", "2147483648", "/a", "1"}, []string{"option --offset: 2147483648 is above the most, 2147483647"}},
		{"offset past int64", nil, []string{"read", "--offset", "99999999999999999999", "/a"}, []string{"offset"}},
		{"path too long", nil, []string{"read", long}, []string{"owserver takes at most 100050"}},
		{"value too long", nil, []string{"write", "/a", long}, []string{"owserver takes at most 100050"}},
		{"second value too long", nil, []string{"write", "/a", "1", "/b", long}, []string{"owserver takes at most 100050"}},
		{"mount -o timeout=0", nil, []string{"mount", "127.0.0.1:1", dir, "-o", "timeout=0"}, []string{"timeout", "below 10ms"}},
		{"mount --timeout 0", nil, []string{"mount", "--timeout", "0", "127.0.0.1:1", dir}, []string{"timeout", "below 10ms"}},
		{"mount OWFUSE_TIMEOUT=0", []string{"OWFUSE_TIMEOUT=0"}, []string{"mount", "127.0.0.1:1", dir}, []string{"OWFUSE_TIMEOUT", "below 10ms"}},
		{"mount -o uid=-1", nil, []string{"mount", "127.0.0.1:1", dir, "-o", "uid=-1"}, []string{"uid"}},
		{"mount -o cache_bytes=1", nil, []string{"mount", "127.0.0.1:1", dir, "-o", "cache_bytes=1"}, []string{"option cache_bytes", "below 1MiB"}},
		{"mount -o ro=maybe", nil, []string{"mount", "127.0.0.1:1", dir, "-o", "ro=maybe"}, []string{"ro"}},
		{"mount -o unknown", nil, []string{"mount", "127.0.0.1:1", dir, "-o", "rro"}, []string{`unknown option "rro"`}},
		{"mount -o without value", nil, []string{"mount", "127.0.0.1:1", dir, "-o", "timeout"}, []string{"timeout needs a value"}},
		{"mount one operand", nil, []string{"mount", dir}, []string{"SERVER and MOUNTPOINT"}},
		{"size not a number", nil, []string{"read", "--size=abc", "/a"}, []string{`option --size: "abc" is not a whole number`}},
		{"timeout variable", []string{"OWFUSE_TIMEOUT=abc"}, []string{"read", "/a"}, []string{`option --timeout: "abc" is not a duration`, "(from $OWFUSE_TIMEOUT)"}},
		{"mount switch variable", []string{"OWFUSE_RO=yes"}, []string{"mount", "127.0.0.1:1", dir}, []string{`option ro: "yes" is not true or false (from $OWFUSE_RO)`}},
		{"mount bad variable, no flag", []string{"OWFUSE_READAHEAD=1000"}, []string{"mount", "127.0.0.1:1", dir}, []string{"option readahead", "$OWFUSE_READAHEAD"}},
		{"mount bad metrics address", nil, []string{"mount", "127.0.0.1:1", dir, "--metrics-listen", "nonsense"}, []string{"option metrics_listen", "not an address"}},
		{"mount option without a verb", nil, []string{"--ro"}, []string{"no verb for", "--ro"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if args[0] != "mount" {
				args = append([]string{"-s", "127.0.0.1:1"}, args...)
			}
			wantFailure(t, run(t, tt.env, owfuseBin, args...), exitUsage, tt.texts...)
		})
	}
	if isMounted(t, dir) {
		t.Errorf("%s was mounted", dir)
	}
}

// TestHelperExitCodes: as a mount helper owfuse exits as mount(8)
// expects: 1 for a bad command line, 32 for a failed mount; `owfuse
// mount` keeps its own codes.
func TestHelperExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	helper := filepath.Join(t.TempDir(), "mount.owfuse")
	if err := os.Symlink(owfuseBin, helper); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		bin  string
		args []string
		code int
	}{
		{"unknown option", helper, []string{"127.0.0.1:1", dir, "-o", "bogus"}, 1},
		{"bad value", helper, []string{"127.0.0.1:1", dir, "-o", "timeout=0"}, 1},
		{"bad helper flag", helper, []string{"127.0.0.1:1", dir, "-x", "-o", "rw"}, 1},
		{"unreachable", helper, []string{"127.0.0.1:1", dir, "-o", "rw"}, 32},
		{"no mountpoint", helper, []string{"127.0.0.1:1", filepath.Join(dir, "nope"), "-o", "rw"}, 32},
		{"fake", helper, []string{"127.0.0.1:1", dir, "-f", "-o", "ro,_netdev,timeout=5s"}, 0},
		{"fake with a bad value", helper, []string{"127.0.0.1:1", dir, "-f", "-o", "timeout=0"}, 1},
		{"a long option", helper, []string{"127.0.0.1:1", dir, "--bogus"}, 1},
		{"help", helper, []string{"--help"}, 0},
		{"mount.fuse3's call, bad value", owfuseBin, []string{"127.0.0.1:1", dir, "-o", "timeout=0,dev,suid"}, 1},
		{"mount.fuse3's call, unreachable", owfuseBin, []string{"127.0.0.1:1", dir, "-o", "dev,suid"}, 32},
		{"owfuse mount, unreachable", owfuseBin, []string{"mount", "127.0.0.1:1", dir}, exitUnreachable},
		{"owfuse mount, bad value", owfuseBin, []string{"mount", "127.0.0.1:1", dir, "-o", "timeout=0"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, tt.bin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			if tt.code != 0 && strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line", r.stderr)
			}
		})
	}
	if isMounted(t, dir) {
		t.Errorf("%s was mounted", dir)
	}
}

// TestHelperWithoutOptionList: mount.owfuse mounts with no -o at all,
// and with -oLIST attached; its daemon child, which parses the command
// line again, must read it as the helper's (it ran as "owfuse" and took
// the source for a verb).
func TestHelperWithoutOptionList(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := startTester(t)
	helper := filepath.Join(t.TempDir(), "mount.owfuse")
	if err := os.Symlink(owfuseBin, helper); err != nil {
		t.Fatal(err)
	}
	// daemon=false must not keep mount(8) waiting: a helper always
	// returns once the mount answers.
	for _, args := range [][]string{nil, {"-oro"}, {"-n", "-oro,_netdev"}, {"-o", "ro,daemon=false"}} {
		dir := t.TempDir()
		r := run(t, nil, helper, append([]string{addr, dir}, args...)...)
		if r.code != 0 {
			t.Errorf("mount.owfuse ADDR DIR %q: exit %d, stderr %q", args, r.code, r.stderr)
			continue
		}
		t.Cleanup(func() { run(t, nil, "umount", dir) })
		if got := mustRun(t, "cat", filepath.Join(dir, tester10, "family")); got != "10\n" {
			t.Errorf("%q: cat family = %q", args, got)
		}
		wantRO := len(args) > 0
		if err := os.WriteFile(filepath.Join(dir, tester10, "temphigh"), []byte("25\n"), 0); (err != nil) != wantRO {
			t.Errorf("%q: write: %v, want read-only %v", args, err, wantRO)
		}
		if r := run(t, nil, "umount", dir); r.code != 0 {
			t.Errorf("umount: %q", r.stderr)
		}
	}
}

// owshellLinks makes links named like ow-shell's programs to the binary
// under test, in a directory of their own.
func owshellLinks(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"owdir", "owread", "owwrite", "owget", "owpresent"} {
		if err := os.Symlink(owfuseBin, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestOwshellPrograms: called as owdir, owread, owwrite, owget or
// owpresent, owfuse prints what ow-shell prints for the same command line,
// with the same exit status (ow-shell knows 0 and 1).
func TestOwshellPrograms(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	links := owshellLinks(t)
	temp := tester10 + "/temperature"
	for _, args := range [][]string{
		{"owdir", "-s", addr, "/"},
		{"owdir", "/", "-s", addr, "--dir"},
		{"owdir", "-s", addr, "-f", "fic", tester28},
		{"owdir", "-s", addr, "--format=fi.c", "/"},
		{"owdir", "-s", addr, "--hex", tester10}, // an option that means nothing to owdir, taken and dropped
		{"owdir", "-s", addr, "/nope"},
		{"owdir", "-q", "-s", addr, "/nope"},
		{"owread", "-s", addr, "-F", temp},
		{"owread", temp, "-s", addr, "-K"},
		{"owread", "-s", addr, "--Fahrenheit", temp, tester28 + "/temperature"},
		{"owread", "-s", addr, "--hex", "--size", "2", "--offset", "1", temp},
		{"owread", "-s", addr, "--size=4", tester26 + "/pages/page.0"},
		{"owread", "-s", addr, tester10 + "/nope"},
		{"owread", "-s", addr},
		{"owget", "-s", addr, temp},
		{"owget", "-s", addr, tester28},
		{"owget", "-s", addr},
		{"owget", "-s", addr, "--dir", "/"},
		{"owpresent", "-s", addr, tester10, tester28},
		{"owpresent", "-s", addr, tester10, "/10.111111111111"},
		{"owwrite", "-s", addr, tester10 + "/temphigh", "25"},
		{"owwrite", "-s", addr, tester10 + "/temperature", "25"},
		{"owwrite", "-s", addr, tester10 + "/temphigh"},
		{"owdir", "--bogus", "-s", addr, "/"},
		// A failing path does not stop the others; the exit status is the
		// last path's.
		{"owread", "-s", addr, "/nonexist/x", tester10 + "/family"},
		{"owread", "-s", addr, tester10 + "/family", "/nonexist/x", tester28 + "/family"},
		{"owread", "-s", addr, tester10 + "/family", "/nonexist/x"},
		{"owdir", "-s", addr, "/nonexist", tester10},
		{"owget", "-s", addr, "/nonexist", tester10 + "/family"},
		{"owwrite", "-s", addr, "/nonexist/x", "20", tester10 + "/templow", "6"},
		{"owpresent", "-s", addr, tester10, "/10.111111111111", tester28},
		// GNU getopt's prefixes and ow-shell's long names.
		{"owread", "--Fahr", "--serv", addr, temp},
		{"owread", "-s", addr, "--hexadecimal", tester10 + "/family"},
		{"owread", "-s", addr, "--si", "1", tester10 + "/family"},
		{"owread", "-s", addr, "--he", tester10 + "/family"},
		{"owread", "-s", addr, "--o", "2", tester10 + "/type"},
		{"owread", "-s", addr, "--s", "2", tester10 + "/type"},
		// ow-shell's --timeout takes seconds; an empty path is the root.
		{"owread", "-s", addr, "--timeout", "5", temp},
		{"owdir", "-s", addr, ""},
		{"owpresent", "-s", addr, ""},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			got := run(t, nil, filepath.Join(links, args[0]), args[1:]...)
			want := run(t, nil, args[0], args[1:]...)
			if got.stdout != want.stdout || got.code != want.code {
				t.Errorf("got %q exit %d (stderr %q), want %q exit %d (ow-shell's stderr %q)",
					got.stdout, got.code, got.stderr, want.stdout, want.code, want.stderr)
			}
			if slices.Contains(args, "-q") && got.stderr != "" {
				t.Errorf("-q: stderr %q, want nothing", got.stderr)
			}
			if got.code != 0 && !slices.Contains(args, "-q") && args[0] != "owpresent" && got.stderr == "" {
				t.Error("failed without a word on stderr")
			}
		})
	}
	t.Run("help with a path", func(t *testing.T) {
		r := run(t, nil, filepath.Join(links, "owread"), "-s", addr, "-h", temp)
		if r.code != 0 || !strings.Contains(r.stdout, "owread [options] PATH...") {
			t.Errorf("owread -h PATH: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("failures reported", func(t *testing.T) {
		// Both failures are told, in order, and the good path's value
		// printed between them.
		r := run(t, nil, filepath.Join(links, "owread"), "-s", addr, "/nonexist/a", tester10+"/family", "/nonexist/b")
		if r.stdout != "10" || strings.Count(r.stderr, "\n") != 2 || !strings.Contains(r.stderr, "/nonexist/a") || !strings.Contains(r.stderr, "/nonexist/b") {
			t.Errorf("stdout %q, stderr %q: want 10 and two error lines", r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "Startup") {
			t.Errorf("stderr %q: OWFS's startup text for code 1 misleads", r.stderr)
		}
	})
	t.Run("version", func(t *testing.T) {
		r := run(t, nil, filepath.Join(links, "owdir"), "-V")
		if r.code != 0 || !strings.Contains(r.stdout, "owdir") {
			t.Errorf("owdir -V: exit %d, stdout %q", r.code, r.stdout)
		}
	})
}

// TestMountHelpIsTyped: the help says what kind of value each option
// takes, and each default once.
func TestMountHelpIsTyped(t *testing.T) {
	t.Parallel()
	r := owfuse(t, "mount", "--help")
	for _, want := range []string{"--timeout DURATION", "--cache-bytes SIZE", "--cache-size N", "--uid UID", "--gid GID",
		"--log-file FILE", "--metrics-listen ADDRESS", "--temp-scale SCALE", "--readahead N", "-o OPTIONS"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("mount --help lacks %q", want)
		}
	}
	for _, line := range lines(r.stdout) {
		if strings.Count(line, "default:") > 1 {
			t.Errorf("two defaults: %q", line)
		}
	}
}

// TestManPages: owfuse(8) and mount.owfuse(8) document every option of
// the table, and man(1) renders them.
func TestManPages(t *testing.T) {
	t.Parallel()
	own, helper := owfuse(t, "man"), owfuse(t, "man", "mount.owfuse")
	for _, r := range []result{own, helper} {
		if r.code != 0 || !strings.HasPrefix(r.stdout, ".nh\n.TH") && !strings.Contains(r.stdout, ".TH ") {
			t.Fatalf("exit %d, stderr %q, page %.200q", r.code, r.stderr, r.stdout)
		}
	}
	text := func(page string) string { return strings.ReplaceAll(page, `\`, "") }
	for _, s := range mountlib.Settings().Options() {
		if !strings.Contains(text(own.stdout), "--"+s.FlagName()) || !strings.Contains(text(own.stdout), s.Name) {
			t.Errorf("owfuse(8) lacks %s", s.Name)
		}
		if !strings.Contains(text(helper.stdout), s.Name) {
			t.Errorf("mount.owfuse(8) lacks %s", s.Name)
		}
	}
	for _, want := range []string{"--server", "--quiet", "--slash", "--hex", "--size", "--offset", "owdir", "owget",
		"EXIT STATUS", "SIGNALS", "SECURITY", "fstab", "SIGHUP", "75"} {
		if !strings.Contains(text(own.stdout), want) {
			t.Errorf("owfuse(8) lacks %q", want)
		}
	}
	for _, want := range []string{"mount -t owfuse", "fstab", "EXIT STATUS", "32", "_netdev"} {
		if !strings.Contains(text(helper.stdout), want) {
			t.Errorf("mount.owfuse(8) lacks %q", want)
		}
	}
	owtest.Require(t, "man")
	for name, page := range map[string]string{"owfuse.8": own.stdout, "mount.owfuse.8": helper.stdout} {
		f := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(f, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, []string{"MANWIDTH=80"}, "man", "-l", f)
		if r.code != 0 || !strings.Contains(r.stdout, "SYNOPSIS") || strings.Contains(r.stderr, "warning") {
			t.Errorf("man -l %s: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
}

// TestMakeInstallOwshellLinks: OWSHELL_LINKS=1 installs ow-shell's names
// as links that work; uninstall removes them, and only them.
func TestMakeInstallOwshellLinks(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "make")
	addr := startTester(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	vars := []string{"DESTDIR=" + dest, "PREFIX=/usr", "OWSHELL_LINKS=1"}
	if r := run(t, nil, "make", append([]string{"-C", root, "install"}, vars...)...); r.code != 0 {
		t.Fatalf("make install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	bin := filepath.Join(dest, "usr/bin")
	wantSame(t, run(t, nil, filepath.Join(bin, "owdir"), "/", "-s", addr), run(t, nil, "owdir", "-s", addr, "/"))
	// An ow-shell program that is not a link to owfuse is not ours to
	// replace, nor to remove.
	if err := os.Remove(filepath.Join(bin, "owread")); err != nil {
		t.Fatal(err)
	}
	foreign := []byte("#!/bin/sh\n")
	if err := os.WriteFile(filepath.Join(bin, "owread"), foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "make", append([]string{"-C", root, "install"}, vars...)...); r.code != 0 || !strings.Contains(r.stdout, "kept") {
		t.Fatalf("make install again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got, err := os.ReadFile(filepath.Join(bin, "owread")); err != nil || string(got) != string(foreign) {
		t.Errorf("make install replaced a foreign owread: %q, %v", got, err)
	}
	if r := run(t, nil, "make", append([]string{"-C", root, "uninstall"}, vars...)...); r.code != 0 {
		t.Fatalf("make uninstall: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	entries, _ := os.ReadDir(bin)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"owread"}) {
		t.Errorf("uninstall left %q in %s, want only the foreign owread", left, bin)
	}
}

// TestPathsNamedLikeHelp: a path h or help is a path, not a request for
// help (urfave/cli gives every verb a help subcommand).
func TestPathsNamedLikeHelp(t *testing.T) {
	t.Parallel()
	addr := startTester(t)
	for _, p := range []string{"h", "help"} {
		r := owfuse(t, "-s", addr, "read", p)
		wantFailure(t, r, exitError, "no such device or property")
	}
}

// TestDaemonLeavesNoInheritedDescriptors: the daemon must not keep the
// descriptors its caller had open (here the write end of a pipe, which
// the shell gives owfuse as fd 9): cat would wait for it for ever.
func TestDaemonLeavesNoInheritedDescriptors(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := startTester(t)
	dir := t.TempDir()
	script := fmt.Sprintf(`"$0" mount --daemon %s %s 9>&1 >/dev/null 2>&1 | cat`, addr, dir)
	// Not run(): with the leak, cat and the pipe to this test would stay
	// open, and the test would hang instead of failing. The shell and cat
	// are a process group of their own, killed when the time is up; the
	// daemon has left it.
	cmd := exec.Command("sh", "-c", script, owfuseBin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run(t, nil, "umount", dir) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || !isMounted(t, dir) {
			t.Fatalf("%v, stderr %q, mounted %v", err, stderr.String(), isMounted(t, dir))
		}
	case <-time.After(mountDeadline):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("the pipeline did not end within %v of the mount: the daemon holds the caller's descriptors", mountDeadline)
	}
}

// TestMountThroughSymlink: a second mount through a symlink to a mounted
// directory is "already mounted", not a second mount stacked on it.
func TestMountThroughSymlink(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := startTester(t)
	dir := t.TempDir()
	if r := owfuse(t, "mount", "--daemon", addr, dir); r.code != 0 {
		t.Fatalf("mount: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Cleanup(func() { run(t, nil, "umount", dir) })
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	r := owfuse(t, "mount", "--daemon", addr, link)
	if r.code == 0 || !strings.Contains(r.stderr, "already mounted") {
		t.Errorf("mount through a symlink: exit %d, stderr %q; want already mounted", r.code, r.stderr)
	}
	if n := len(mounts(t, dir)); n != 1 {
		t.Errorf("%d mounts on %s, want 1", n, dir)
	}
}
