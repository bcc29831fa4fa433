package integration

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// The mount is driven only by real programs (cat, ls, sh, vim, sed…) and
// plain os calls, as a person at a shell would.

// testerDevices are the devices whose whole tree the mount tests walk:
// two families with different properties.
var testerDevices = []string{tester10, tester28}

// TestMountListingsMatchOwdir walks the device directories and /settings
// through the mount: every listing has owdir's names, and the entry types
// agree with owdir --dir.
func TestMountListingsMatchOwdir(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t)
	var walk func(dir string)
	walk = func(dir string) {
		want := owdirEntries(t, addr, dir)
		ents, err := os.ReadDir(filepath.Join(mnt, dir))
		if err != nil {
			t.Errorf("readdir %s: %v", dir, err)
			return
		}
		got := map[string]bool{}
		for _, e := range ents {
			got[e.Name()] = e.IsDir()
		}
		for name, isDir := range want {
			if g, ok := got[name]; !ok {
				t.Errorf("%s: %q is missing from the mount's listing", dir, name)
			} else if g != isDir {
				t.Errorf("%s/%s: directory %v in the mount, %v in owdir", dir, name, g, isDir)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s: the mount lists %q, owdir does not", dir, name)
			}
		}
		if dir == "/" {
			return // the root's devices and special directories are walked below, selectively
		}
		for name, isDir := range want {
			if isDir {
				walk(strings.TrimSuffix(dir, "/") + "/" + name)
			}
		}
	}
	walk("/")
	for _, d := range append(slices.Clone(testerDevices), "/settings") {
		walk(d)
	}
	// ls, too, prints owdir's names.
	want := lines(mustRun(t, "owdir", "-s", addr, "/"))
	for i := range want {
		want[i] = strings.TrimPrefix(want[i], "/")
	}
	got := lines(mustRun(t, "ls", "-1", mnt))
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ls -1 %s: got %q, want owdir's %q", mnt, got, want)
	}
}

// structureType returns the type letter of a device property's
// /structure line, as owread gives it.
func structureType(t *testing.T, addr, devProp string) byte {
	t.Helper()
	dev, prop, _ := strings.Cut(strings.TrimPrefix(devProp, "/"), "/")
	line := owreadTrimmed(t, addr, "/structure/"+dev[:2]+"/"+prop)
	if line == "" {
		t.Fatalf("no structure line for %s", devProp)
	}
	return line[0]
}

// TestMountReadsMatchOwread cats every readable property of the devices:
// with -o padded,newline=false the bytes are owread's; by default they are
// owread's trimmed, with a newline (binary values are never changed).
func TestMountReadsMatchOwread(t *testing.T) {
	t.Parallel()
	addr, exact := startMountTester(t, "-o", "padded,newline=false")
	def := mountOrFatal(t, addr)
	checked := 0
	for _, dev := range testerDevices {
		for _, rel := range owdirTree(t, addr, dev) {
			p := dev + "/" + rel
			fi, err := os.Stat(filepath.Join(def, p))
			if err != nil {
				t.Errorf("stat %s: %v", p, err)
				continue
			}
			if fi.Mode().Perm()&0o444 == 0 {
				continue // write-only
			}
			raw := owreadRaw(t, addr, p)
			want := strings.TrimSpace(raw)
			switch {
			case structureType(t, addr, p) == 'b':
				want = raw
			case want != "":
				want += "\n"
			}
			for _, c := range []struct{ mnt, want string }{{exact, raw}, {def, want}} {
				r := run(t, nil, "cat", filepath.Join(c.mnt, p))
				if r.code != 0 || r.stderr != "" {
					t.Errorf("cat %s: exit %d, stderr %q", filepath.Join(c.mnt, p), r.code, r.stderr)
				} else if r.stdout != c.want {
					t.Errorf("cat %s: got %q, want %q (owread: %q)", filepath.Join(c.mnt, p), r.stdout, c.want, raw)
				}
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d properties checked: the walk missed most of them", checked)
	}
}

// TestMountEchoWritesSetting writes a setting with the shell's echo.
func TestMountEchoWritesSetting(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t)
	f := filepath.Join(mnt, volatile)
	r := run(t, nil, "sh", "-c", `echo 20 > "$1"`, "sh", f)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("echo 20 > %s: exit %d, stderr %q", f, r.code, r.stderr)
	}
	if got := owreadTrimmed(t, addr, volatile); got != "20" {
		t.Errorf("owread %s: got %q, want %q", volatile, got, "20")
	}
	if got := mustRun(t, "cat", f); got != "20\n" {
		t.Errorf("cat %s: got %q, want %q", f, got, "20\n")
	}
}

// TestMountAlias renames a device by writing its alias, and back.
func TestMountAlias(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t)
	dev := tester10[1:]
	r := run(t, nil, "sh", "-c", `echo kitchen > "$1"`, "sh", filepath.Join(mnt, dev, "alias"))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("echo kitchen > alias: exit %d, stderr %q", r.code, r.stderr)
	}
	names := lines(mustRun(t, "ls", "-1", mnt))
	if !slices.Contains(names, "kitchen") {
		t.Errorf("ls %s right after the write: got %q, want kitchen in it", mnt, names)
	}
	ents, err := os.ReadDir(mnt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.ContainsAny(e.Name(), "\n ") {
			t.Errorf("readdir %s: name %q has the value's newline or padding", mnt, e.Name())
		}
	}
	if got := owreadRaw(t, addr, tester10+"/alias"); got != "kitchen" {
		t.Errorf("owread %s/alias: got %q, want %q", tester10, got, "kitchen")
	}
	if got := mustRun(t, "cat", filepath.Join(mnt, "kitchen", "type")); got != "DS18S20\n" {
		t.Errorf("cat kitchen/type: got %q, want %q", got, "DS18S20\n")
	}

	r = run(t, nil, "sh", "-c", `: > "$1"`, "sh", filepath.Join(mnt, "kitchen", "alias"))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf(": > kitchen/alias: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := owreadRaw(t, addr, tester10+"/alias"); got != "" {
		t.Errorf("owread %s/alias after clearing: got %q, want nothing", tester10, got)
	}
	names = lines(mustRun(t, "ls", "-1", mnt))
	if slices.Contains(names, "kitchen") || !slices.Contains(names, dev) {
		t.Errorf("ls %s after clearing the alias: got %q, want %s and no kitchen", mnt, names, dev)
	}
}

// TestMountWriteRefused writes a bad value and a read-only property.
func TestMountWriteRefused(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "bash")
	addr, mnt := startMountTester(t)
	high := filepath.Join(mnt, tester10, "temphigh")
	before := owreadTrimmed(t, addr, tester10+"/temphigh")

	// dash, Debian's sh, reports every failure of a builtin's output as
	// "I/O error" whatever the errno; bash and coreutils' echo print
	// strerror. All must fail.
	r := run(t, nil, "sh", "-c", `echo abc > "$1"`, "sh", high)
	if r.code == 0 {
		t.Errorf("sh: echo abc > temphigh succeeded, want a failure")
	}
	wantRefused(t, "sh: /bin/echo abc > temphigh", run(t, nil, "sh", "-c", `/bin/echo abc > "$1"`, "sh", high), "Invalid argument")
	wantRefused(t, "bash: echo abc > temphigh", run(t, nil, "bash", "-c", `echo abc > "$1"`, "bash", high), "Invalid argument")
	if after := owreadTrimmed(t, addr, tester10+"/temphigh"); after != before {
		t.Errorf("temphigh changed from %q to %q", before, after)
	}

	// Refused by owfuse itself, even for root (no default_permissions).
	temp := filepath.Join(mnt, tester10, "temperature")
	wantRefused(t, "echo 20 > temperature", run(t, nil, "sh", "-c", `echo 20 > "$1"`, "sh", temp), "Permission denied")
	wantRefused(t, "bash: echo 20 > temperature", run(t, nil, "bash", "-c", `echo 20 > "$1"`, "bash", temp), "Permission denied")
}

// TestMountVimEdit saves a setting with vim.
func TestMountVimEdit(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "vim.tiny")
	addr, mnt := startMountTester(t)
	f := filepath.Join(mnt, volatile)
	r := run(t, nil, "sh", "-c", `cd /tmp && exec vim.tiny -N -u NONE -i NONE -n -es -c '%s/.*/37/' -c wq "$1"`, "sh", f)
	if r.code != 0 {
		t.Fatalf("vim.tiny -es %s: exit %d, stdout %q, stderr %q", f, r.code, r.stdout, r.stderr)
	}
	if got := owreadTrimmed(t, addr, volatile); got != "37" {
		t.Errorf("owread %s after vim: got %q, want %q", volatile, got, "37")
	}
	if got := mustRun(t, "cat", f); got != "37\n" {
		t.Errorf("cat %s after vim: got %q, want %q", f, got, "37\n")
	}
}

// TestMountRefusesNamespaceChanges: owserver's names cannot be created,
// removed, renamed or chmodded; sed -i (which renames a temporary file
// over the original) fails without touching the value; touch works.
func TestMountRefusesNamespaceChanges(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t)
	f := filepath.Join(mnt, volatile)
	dir := filepath.Dir(f)
	before := owreadTrimmed(t, addr, volatile)
	if !strings.Contains(before, "1") {
		t.Fatalf("%s is %q: sed s/1/2/ would not change it", volatile, before)
	}
	tests := []struct {
		name string
		args []string
	}{
		{"sed -i", []string{"sed", "-i", "s/1/2/", f}},
		{"rm", []string{"rm", f}},
		{"rm -f", []string{"rm", "-f", f}},
		{"rm device property", []string{"rm", filepath.Join(mnt, tester10, "temperature")}},
		{"rm -r device", []string{"rm", "-r", filepath.Join(mnt, tester28)}},
		{"mkdir", []string{"mkdir", filepath.Join(mnt, "newdir")}},
		{"touch new name", []string{"touch", filepath.Join(dir, "newname")}},
		{"mv", []string{"mv", f, filepath.Join(dir, "renamed")}},
		{"mv device", []string{"mv", filepath.Join(mnt, tester10), filepath.Join(mnt, "kitchen")}},
		{"ln -s", []string{"ln", "-s", f, filepath.Join(dir, "link")}},
		{"ln", []string{"ln", f, filepath.Join(dir, "hardlink")}},
		{"chmod", []string{"chmod", "600", f}},
		{"chmod dir", []string{"chmod", "700", dir}},
	}
	for _, tt := range tests {
		r := run(t, nil, tt.args[0], tt.args[1:]...)
		if r.code == 0 {
			t.Errorf("%s: succeeded, want it refused", tt.name)
		}
		if !strings.Contains(r.stderr, "Operation not permitted") {
			t.Errorf("%s: stderr %q, want it to say %q", tt.name, r.stderr, "Operation not permitted")
		}
	}
	for _, p := range []string{f, filepath.Join(mnt, tester10, "temperature"), dir} {
		if r := run(t, nil, "touch", p); r.code != 0 {
			t.Errorf("touch %s: exit %d, stderr %q", p, r.code, r.stderr)
		}
	}
	if after := owreadTrimmed(t, addr, volatile); after != before {
		t.Errorf("%s changed from %q to %q", volatile, before, after)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if slices.Contains([]string{"newname", "renamed", "link", "hardlink"}, e.Name()) || strings.HasPrefix(e.Name(), "sed") {
			t.Errorf("%s appeared in %s", e.Name(), dir)
		}
	}
	if _, err := os.Stat(f); err != nil {
		t.Errorf("stat %s after the refusals: %v", f, err)
	}
}

// TestMountWholeFileReaders reads values with the usual whole-file
// readers, which must see every byte although the size is 0.
func TestMountWholeFileReaders(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "python3")
	addr, mnt := startMountTester(t)
	tmp := t.TempDir()
	for _, p := range []string{
		tester10 + "/temperature",
		tester10 + "/type",
		tester28 + "/address",
		volatile,
		"/settings/return_codes/text.ALL", // several pages
	} {
		want := strings.TrimSpace(owreadRaw(t, addr, p)) + "\n"
		f := filepath.Join(mnt, p)
		if got := mustRun(t, "python3", "-c", "import sys; sys.stdout.write(open(sys.argv[1]).read())", f); got != want {
			t.Errorf("python3 read %s: got %q, want %q", p, got, want)
		}
		if got, err := os.ReadFile(f); err != nil || string(got) != want {
			t.Errorf("os.ReadFile %s: got %q, %v; want %q", p, got, err, want)
		}
		if got := mustRun(t, "sh", "-c", `wc -c < "$1"`, "sh", f); strings.TrimSpace(got) != strconv.Itoa(len(want)) {
			t.Errorf("wc -c < %s: got %q, want %d", p, got, len(want))
		}
		dst := filepath.Join(tmp, filepath.Base(p))
		mustRun(t, "cp", f, dst)
		if got, err := os.ReadFile(dst); err != nil || string(got) != want {
			t.Errorf("cp %s: the copy has %q, %v; want %q", p, got, err, want)
		}
		if got := mustRun(t, "tail", "-c", "3", f); got != want[len(want)-3:] {
			t.Errorf("tail -c 3 %s: got %q, want %q", p, got, want[len(want)-3:])
		}
		if got := mustRun(t, "dd", "if="+f, "bs=1", "status=none"); got != want {
			t.Errorf("dd bs=1 %s: got %q, want %q", p, got, want)
		}
		// One open, read in pieces at chosen offsets.
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2)
		if n, err := fh.ReadAt(buf, 1); n != 2 || string(buf) != want[1:3] {
			t.Errorf("pread 2 bytes at 1 of %s: got %q (%v), want %q", p, buf[:n], err, want[1:3])
		}
		rest, err := io.ReadAll(fh)
		if err != nil || string(rest) != want {
			t.Errorf("read %s after a pread: got %q, %v; want %q", p, rest, err, want)
		}
		fh.Close()
	}
}

// TestMountXattrs shows a property's structure line as extended
// attributes.
func TestMountXattrs(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "getfattr")
	addr, mnt := startMountTester(t)
	for _, c := range []struct {
		prop                 string
		typ, access, changes string
	}{
		{"temperature", "temperature", "ro", "volatile"},
		{"temphigh", "temperature", "rw", "stable"},
		{"type", "ascii", "ro", "fixed"},
	} {
		structure := owreadTrimmed(t, addr, "/structure/10/"+c.prop)
		out := mustRun(t, "getfattr", "-d", filepath.Join(mnt, tester10, c.prop))
		for _, want := range []string{
			`user.owfs.structure="` + structure + `"` + "\n",
			`user.owfs.type="` + c.typ + `"` + "\n",
			`user.owfs.access="` + c.access + `"` + "\n",
			`user.owfs.change="` + c.changes + `"` + "\n",
			"\n" + `user.owfs.size="`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("getfattr -d %s: got %q, want %q in it", c.prop, out, want)
			}
		}
	}
	out := mustRun(t, "getfattr", "-n", "user.owfs.structure", "--only-values", filepath.Join(mnt, tester28, "temperature"))
	if want := owreadTrimmed(t, addr, "/structure/28/temperature"); out != want {
		t.Errorf("getfattr -n user.owfs.structure %s/temperature: got %q, want %q", tester28, out, want)
	}
}

// TestMountInfo: the mount is a fuse.owfuse filesystem whose source is
// the server, and statfs answers.
func TestMountInfo(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t)
	ms := mounts(t, mnt)
	if len(ms) != 1 {
		t.Fatalf("%d mounts at %s, want 1", len(ms), mnt)
	}
	if ms[0].fstype != "fuse.owfuse" || ms[0].source != addr {
		t.Errorf("mountinfo: type %q, source %q; want fuse.owfuse and %s", ms[0].fstype, ms[0].source, addr)
	}
	want := addr + " on " + mnt + " type fuse.owfuse "
	if out := mustRun(t, "mount"); !strings.Contains(out, want) {
		t.Errorf("mount: no line with %q in\n%s", want, out)
	}
	if out := mustRun(t, "df", mnt); !strings.Contains(out, mnt) {
		t.Errorf("df %s: got %q", mnt, out)
	}
	if out := mustRun(t, "stat", "-f", mnt); !strings.Contains(out, "Namelen: 255") {
		t.Errorf("stat -f %s: got %q, want Namelen: 255", mnt, out)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Join(mnt, tester10), &st); err != nil {
		t.Errorf("statfs %s: %v", tester10, err)
	}
}

// TestMountReadOnly: on a -o ro mount every write fails with EROFS, and
// reading still works.
func TestMountReadOnly(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t, "-o", "ro")
	f := filepath.Join(mnt, volatile)
	before := owreadTrimmed(t, addr, volatile)
	const erofs = "Read-only file system"
	wantRefused(t, "sh: echo 20 > volatile", run(t, nil, "sh", "-c", `echo 20 > "$1"`, "sh", f), erofs)
	wantRefused(t, "echo 20 > temphigh", run(t, nil, "sh", "-c", `echo 20 > "$1"`, "sh", filepath.Join(mnt, tester10, "temphigh")), erofs)
	wantRefused(t, "truncate", run(t, nil, "truncate", "-s", "0", f), erofs)
	wantRefused(t, "rm", run(t, nil, "rm", f), erofs)
	wantRefused(t, "mkdir", run(t, nil, "mkdir", filepath.Join(mnt, "newdir")), erofs)
	wantRefused(t, "touch new name", run(t, nil, "touch", filepath.Join(mnt, "newname")), erofs)
	wantRefused(t, "chmod", run(t, nil, "chmod", "600", f), erofs)
	if _, err := os.OpenFile(f, os.O_WRONLY, 0); !errors.Is(err, syscall.EROFS) {
		t.Errorf("open %s for writing: %v, want EROFS", f, err)
	}
	if after := owreadTrimmed(t, addr, volatile); after != before {
		t.Errorf("%s changed from %q to %q on a read-only mount", volatile, before, after)
	}
	if got := mustRun(t, "cat", f); got != before+"\n" {
		t.Errorf("cat %s: got %q, want %q", f, got, before+"\n")
	}
	fi, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("%s has mode %v on a read-only mount, want no write bits", f, fi.Mode())
	}
}

// TestMountFailsFast: owfuse mount refuses at once, with one line, what it
// cannot serve, and mounts nothing.
func TestMountFailsFast(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	t.Run("unreachable server", func(t *testing.T) {
		t.Parallel()
		port, err := owtest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		dir := t.TempDir()
		m := startOwfuse(t, addr, dir)
		m.dir = dir
		r := m.waitExit(t, quickly)
		wantFailure(t, r, exitUnreachable, "cannot reach owserver at "+addr)
		if isMounted(t, dir) {
			t.Errorf("%s is mounted", dir)
		}
	})
	t.Run("missing mountpoint", func(t *testing.T) {
		t.Parallel()
		addr := owtest.StartOwserver(t, "--fake", "10").Addr
		dir := filepath.Join(t.TempDir(), "missing")
		m := startOwfuse(t, addr, dir)
		m.dir = dir
		r := m.waitExit(t, quickly)
		wantFailure(t, r, exitError, dir, "no such file or directory")
		if isMounted(t, dir) {
			t.Errorf("%s is mounted", dir)
		}
	})
	t.Run("mountpoint is a file", func(t *testing.T) {
		t.Parallel()
		addr := owtest.StartOwserver(t, "--fake", "10").Addr
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		m := startOwfuse(t, addr, file)
		m.dir = file
		wantFailure(t, m.waitExit(t, quickly), exitError, file, "not a directory")
	})
	t.Run("already mounted", func(t *testing.T) {
		t.Parallel()
		addr := owtest.StartOwserver(t, "--fake", "10").Addr
		dir := mountOrFatal(t, addr)
		m := startOwfuse(t, addr, dir) // m.dir stays empty: the mount is the first one's
		wantFailure(t, m.waitExit(t, quickly), exitError, dir, "already mounted")
		if n := len(mounts(t, dir)); n != 1 {
			t.Errorf("%d mounts at %s, want the first one only", n, dir)
		}
		if r := run(t, nil, "cat", filepath.Join(dir, fake10, "type")); r.code != 0 {
			t.Errorf("the first mount stopped serving: cat exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestMountSignals: SIGINT and SIGTERM unmount and exit 0, even while a
// process has its working directory in the mount.
func TestMountSignals(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := owtest.StartOwserver(t, "--fake", "10,28").Addr
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			m := startMount(t, addr, dir)
			if got := mustRun(t, "cat", filepath.Join(dir, fake10, "family")); got != "10\n" {
				t.Errorf("cat family: got %q, want %q", got, "10\n")
			}
			m.stop(t, sig) // checks exit code 0 and that the mount is gone
		})
		t.Run(sig.String()+" busy", func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			m := startMount(t, addr, dir)
			// A shell sitting in the mount, until its stdin closes.
			sh := exec.Command("sh", "-c", "read x")
			sh.Dir = filepath.Join(dir, fake10)
			stdin, err := sh.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := sh.Start(); err != nil {
				t.Fatal(err)
			}
			defer sh.Wait()
			defer stdin.Close()
			m.signal(t, sig)
			// The mount is detached lazily; then the shell may go.
			if !waitUnmounted(t, dir, stopDeadline) {
				t.Errorf("%s still mounted after %v with a busy mount", dir, sig)
			}
			stdin.Close()
			sh.Wait()
			m.stop(t, sig) // the signal was sent: this waits for the exit and checks it
		})
	}
}

// TestMountEntryTypes: find and Python's scandir tell properties from
// directories without stat'ing each entry.
func TestMountEntryTypes(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "python3")
	addr, mnt := startMountTester(t)
	dev := filepath.Join(mnt, tester10)
	var wantFiles []string
	for _, f := range owdirTree(t, addr, tester10) {
		wantFiles = append(wantFiles, filepath.Join(dev, f))
	}
	gotFiles := lines(mustRun(t, "find", dev, "-type", "f"))
	slices.Sort(gotFiles)
	if !slices.Equal(gotFiles, wantFiles) {
		t.Errorf("find -type f: got %q, want %q", gotFiles, wantFiles)
	}
	gotDirs := lines(mustRun(t, "find", dev, "-type", "d"))
	slices.Sort(gotDirs)
	if want := []string{dev, filepath.Join(dev, "errata")}; !slices.Equal(gotDirs, want) {
		t.Errorf("find -type d: got %q, want %q", gotDirs, want)
	}
	out := mustRun(t, "python3", "-c", "import os, sys\nfor e in os.scandir(sys.argv[1]): print(e.name, e.is_dir())", dev)
	want := owdirEntries(t, addr, tester10)
	got := lines(out)
	if len(got) != len(want) {
		t.Errorf("os.scandir: %d entries, owdir %d", len(got), len(want))
	}
	for _, l := range got {
		name, isDir, _ := strings.Cut(l, " ")
		if w, ok := want[name]; !ok || strconv.FormatBool(w) != strings.ToLower(isDir) {
			t.Errorf("os.scandir: %s is_dir %s; owdir says directory %v (listed %v)", name, isDir, w, ok)
		}
	}
}

// TestMountInodesStable: a path keeps its inode number across lookups
// (dir_ttl=0: every stat looks it up again) and across mounts.
func TestMountInodesStable(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t, "-o", "dir_ttl=0")
	other := mountOrFatal(t, addr)
	seen := map[string]string{}
	for _, p := range []string{tester10, tester10 + "/temperature", tester10 + "/errata/die", tester28 + "/temperature", volatile} {
		ino := func(m string) string {
			return strings.TrimSpace(mustRun(t, "stat", "-c", "%i", filepath.Join(m, p)))
		}
		first := ino(mnt)
		mustRun(t, "cat", filepath.Join(mnt, tester28, "type")) // other traffic in between
		if again := ino(mnt); again != first {
			t.Errorf("%s: inode %s, then %s", p, first, again)
		}
		if elsewhere := ino(other); elsewhere != first {
			t.Errorf("%s: inode %s, and %s on another mount", p, first, elsewhere)
		}
		fi, err := os.Stat(filepath.Join(mnt, p))
		if err != nil {
			t.Fatal(err)
		}
		if got := strconv.FormatUint(fi.Sys().(*syscall.Stat_t).Ino, 10); got != first {
			t.Errorf("%s: os.Stat inode %s, stat(1) %s", p, got, first)
		}
		if q, dup := seen[first]; dup {
			t.Errorf("%s and %s share inode %s", p, q, first)
		}
		seen[first] = p
	}
}

// TestMountServerGone: with owserver killed or hung, reads fail with EIO,
// never ENOENT, within the mount's timeout.
func TestMountServerGone(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	const timeout = 2 * time.Second
	for _, how := range []string{"killed", "stopped"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			srv := owtest.StartOwserver(t, "--tester", "10,28")
			mnt := mountOrFatal(t, srv.Addr, "-o", "timeout="+timeout.String()+",volatile_ttl=0,dir_ttl=0")
			temp := filepath.Join(mnt, tester10, "temperature")
			mustRun(t, "cat", temp)
			if how == "killed" {
				srv.Stop()
			} else if err := srv.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"cat", temp}, {"ls", filepath.Join(mnt, tester28)}, {"cat", filepath.Join(mnt, volatile)}} {
				r := run(t, nil, args[0], args[1:]...)
				if r.code == 0 {
					t.Errorf("%s: succeeded with owserver %s", args, how)
				}
				if !strings.Contains(r.stderr, "Input/output error") || strings.Contains(r.stderr, "No such file") {
					t.Errorf("%s: stderr %q, want Input/output error", args, r.stderr)
				}
				if r.elapsed > timeout+time.Second {
					t.Errorf("%s took %v, want at most the mount's timeout %v", args, r.elapsed, timeout)
				}
			}
		})
	}
}

// TestMountEchoSendsOneWrite: `echo VALUE > FILE` reaches owserver as one
// MSG_WRITE of VALUE, as owfs/doc.go promises. The shell opens FILE with
// O_TRUNC, dup2s the descriptor to stdout and closes the original before
// echo writes: that close must not send the empty value (which would
// clear an alias, or be refused, on its way to the real one). owserver
// counts device writes in /statistics/write/calls.
func TestMountEchoSendsOneWrite(t *testing.T) {
	t.Parallel()
	addr, mnt := startMountTester(t)
	calls := func() int {
		n, err := strconv.Atoi(owreadTrimmed(t, addr, "/statistics/write/calls"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct{ shell, prop, value string }{
		{"sh", "temphigh", "25"},
		{"bash", "temphigh", "26"},
		{"sh", "alias", "kitchen"},
	} {
		before := calls()
		f := filepath.Join(mnt, tester10, c.prop) // the alias is written last, before the rename
		r := run(t, nil, c.shell, "-c", `echo "$1" > "$2"`, c.shell, c.value, f)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: echo %s > %s: exit %d, stderr %q", c.shell, c.value, c.prop, r.code, r.stderr)
		}
		if n := calls() - before; n != 1 {
			t.Errorf("%s: echo %s > %s sent %d writes to owserver, want 1", c.shell, c.value, c.prop, n)
		}
	}
	if got := owreadRaw(t, addr, tester10+"/alias"); got != "kitchen" {
		t.Errorf("alias: got %q, want kitchen", got)
	}
	// Clearing is one write too: of the empty value.
	before := calls()
	if r := run(t, nil, "sh", "-c", `: > "$1"`, "sh", filepath.Join(mnt, "kitchen", "alias")); r.code != 0 {
		t.Fatalf(": > alias: exit %d, stderr %q", r.code, r.stderr)
	}
	if n := calls() - before; n != 1 {
		t.Errorf(": > alias sent %d writes, want 1", n)
	}
	if got := owreadRaw(t, addr, tester10+"/alias"); got != "" {
		t.Errorf("alias after clearing: got %q, want nothing", got)
	}
}
