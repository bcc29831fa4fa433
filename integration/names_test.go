package integration

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// The devices of `owserver --tester 10,28,05,23,29,1F`.
const (
	namesFamilies = "10,28,05,23,29,1F"
	names10       = "10.000010EF0000"
	names28       = "28.000028D70100"
	names1F       = "1F.00001FE00500"
)

// startNames starts `owserver --tester families` and mounts it; it
// returns the server and the mountpoint.
func startNames(t *testing.T, families string) (*owtest.Owserver, string) {
	t.Helper()
	requireFUSE(t)
	owtest.Require(t, "owread")
	srv := owtest.StartOwserver(t, "--tester", families)
	return srv, mountOrFatal(t, srv.Addr)
}

// wantCat fails t unless cat of each path prints want and a newline.
func wantCat(t *testing.T, want string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if got := mustRun(t, "cat", p); got != want+"\n" {
			t.Errorf("cat %s = %q, want %q", p, got, want+"\n")
		}
	}
}

// wantErrno fails t unless the program fails with text on stderr.
func wantErrno(t *testing.T, text string, name string, args ...string) {
	t.Helper()
	wantRefused(t, name+" "+strings.Join(args, " "), run(t, nil, name, args...), text)
}

// After an alias is written, owserver lists the device by its alias but
// still serves its id: both names work in every directory that holds
// devices, an absent id stays ENOENT, and a dead server is EIO.
func TestNamesAliasAndID(t *testing.T) {
	srv, mnt := startNames(t, namesFamilies)
	temp := owreadTrimmed(t, srv.Addr, "/"+names10+"/temperature")
	mustRun(t, "sh", "-c", "echo lounge > "+filepath.Join(mnt, names10, "alias"))

	root := lines(mustRun(t, "ls", mnt))
	if !slices.Contains(root, "lounge") || slices.Contains(root, names10) {
		t.Fatalf("ls after the alias write: %q, want lounge instead of %s", root, names10)
	}
	var paths []string
	for _, dir := range []string{"", "uncached", "bus.0", "uncached/bus.0", "alarm", names1F + "/main", "bus.0/" + names1F + "/aux"} {
		for _, name := range []string{names10, "lounge"} {
			paths = append(paths, filepath.Join(mnt, dir, name, "temperature"))
		}
	}
	wantCat(t, temp, paths...)
	if got := mustRun(t, "stat", "-c", "%F", filepath.Join(mnt, names10)); got != "directory\n" {
		t.Errorf("stat %s: %q, want a directory", names10, got)
	}
	// (Not under bus.0/: the simulated bus says any id is present there.)
	for _, absent := range []string{"10.000010EF0001", "10.000010EF0000.00", "uncached/28.000028D70101", "99.000010EF0000"} {
		wantErrno(t, "No such file or directory", "stat", filepath.Join(mnt, absent))
	}
	// Not a directory that holds devices: no question to owserver, ENOENT.
	wantErrno(t, "No such file or directory", "stat", filepath.Join(mnt, "lounge", names28))

	srv.Stop()
	// A name not asked about yet, in a listing still cached: owserver
	// cannot say whether it is there, which is not "absent".
	wantErrno(t, "Input/output error", "stat", filepath.Join(mnt, "10.000010EF0002"))
}

// owserver accepts a device id in lower case, without its dot and with
// its CRC (which crc8 gives); a wrong CRC is refused.
func TestNamesSpellings(t *testing.T) {
	srv, mnt := startNames(t, namesFamilies)
	temp := owreadTrimmed(t, srv.Addr, "/"+names28+"/temperature")
	crc := strings.TrimSpace(mustRun(t, "cat", filepath.Join(mnt, names28, "crc8")))
	if len(crc) != 2 {
		t.Fatalf("crc8 %q", crc)
	}
	id := names28[3:]
	spellings := []string{strings.ToLower(names28), "28" + id, "28" + strings.ToLower(id), names28 + "." + crc, names28 + crc, "28" + id + crc, strings.ToLower(names28 + "." + crc)}
	var paths []string
	for _, dir := range []string{"", "uncached", "bus.0", "alarm"} {
		for _, s := range spellings {
			paths = append(paths, filepath.Join(mnt, dir, s, "temperature"))
		}
	}
	wantCat(t, temp, paths...)
	// Such a directory lists like the device's own: names, types and
	// modes. (Sizes follow what is cached at the moment of each stat.)
	want := modesAndNames(mustRun(t, "ls", "-l", filepath.Join(mnt, names28)))
	for _, s := range spellings[:3] {
		if got := modesAndNames(mustRun(t, "ls", "-l", filepath.Join(mnt, s))); got != want {
			t.Errorf("ls -l %s:\n%s\nwant\n%s", s, got, want)
		}
	}
	wrong := "00"
	if crc == wrong {
		wrong = "01"
	}
	wantErrno(t, "No such file or directory", "cat", filepath.Join(mnt, names28+"."+wrong, "temperature"))
	wantErrno(t, "No such file or directory", "cat", filepath.Join(mnt, "uncached", "28"+id+wrong, "temperature"))
}

// An owserver in front of others (-s) lists uncached/ under each bus.N/,
// and interface/ in it: the bus master's directory again, not a device.
// And its bus.N/system, settings… are the other server's, not its own:
// each path shows its own server's value, whichever is read first.
func TestNamesChainedServers(t *testing.T) {
	requireFUSE(t)
	back := owtest.StartOwserver(t, "--tester", "10")
	front := owtest.StartOwserver(t, "-s", back.Addr)
	mnt := mountOrFatal(t, front.Addr)
	dir := filepath.Join(mnt, "bus.0/uncached/interface")
	if r := run(t, nil, "ls", "-lR", dir); r.code != 0 || r.stderr != "" || strings.Contains(r.stdout, "?") {
		t.Errorf("ls -lR %s: exit %d, stderr %q, stdout\n%s", dir, r.code, r.stderr, r.stdout)
	}
	wantCat(t, owreadTrimmed(t, front.Addr, "/bus.0/uncached/interface/settings/name"), filepath.Join(dir, "settings/name"))

	const pid = "system/process/pid"
	frontPid, backPid := owreadTrimmed(t, front.Addr, "/"+pid), owreadTrimmed(t, front.Addr, "/bus.0/"+pid)
	if frontPid == backPid {
		t.Fatalf("owserver gives both servers' pid as %s", frontPid)
	}
	wantCat(t, frontPid, filepath.Join(mnt, pid))
	wantCat(t, backPid, filepath.Join(mnt, "bus.0", pid))
	wantCat(t, frontPid, filepath.Join(mnt, "uncached", pid))
}

// bus.N/interface is the bus master's own directory: every file listed
// there has attributes and a value.
func TestNamesBusInterface(t *testing.T) {
	srv, mnt := startNames(t, namesFamilies)
	for _, dir := range []string{"bus.0/interface", "uncached/bus.0/interface"} {
		r := run(t, nil, "ls", "-lR", filepath.Join(mnt, dir))
		if r.code != 0 || r.stderr != "" || strings.Contains(r.stdout, "?") {
			t.Errorf("ls -lR %s: exit %d, stderr %q, stdout\n%s", dir, r.code, r.stderr, r.stdout)
		}
	}
	wantCat(t, owreadTrimmed(t, srv.Addr, "/bus.0/interface/settings/name"),
		filepath.Join(mnt, "bus.0/interface/settings/name"), filepath.Join(mnt, "uncached/bus.0/interface/settings/name"))
	// The bus master's settings can be written, its statistics not.
	for p, mode := range map[string]string{"bus.0/interface/settings/name": "644", "bus.0/interface/statistics/bus_time": "444"} {
		if got := strings.TrimSpace(mustRun(t, "stat", "-c", "%a", filepath.Join(mnt, p))); got != mode {
			t.Errorf("mode of %s: %s, want %s", p, got, mode)
		}
	}
}

// Devices behind a DS2409 hub get their structure lines: modes and
// xattrs, as at the root.
func TestNamesHub(t *testing.T) {
	owtest.Require(t, "getfattr")
	_, mnt := startNames(t, namesFamilies)
	mustRun(t, "sh", "-c", "echo lounge > "+filepath.Join(mnt, names10, "alias"))
	for _, dev := range []string{names1F + "/main/" + names28, names1F + "/aux/" + names28, "bus.0/" + names1F + "/main/lounge", "uncached/" + names1F + "/aux/" + names10} {
		for prop, mode := range map[string]string{"family": "444", "temphigh": "644", "temperature": "444"} {
			p := filepath.Join(mnt, dev, prop)
			if got := strings.TrimSpace(mustRun(t, "stat", "-c", "%a", p)); got != mode {
				t.Errorf("mode of %s: %s, want %s", p, got, mode)
			}
		}
		p := filepath.Join(mnt, dev, "family")
		if got := mustRun(t, "getfattr", "--only-values", "-n", "user.owfs.structure", p); got != "a,000000,000001,ro,000002,f," {
			t.Errorf("getfattr user.owfs.structure %s: %q", p, got)
		}
	}
}

// The whole tree is consistent: find, ls -R, tree and Python's os.walk
// finish without an error. (A bus without a hub: on a simulated bus a
// hub's main/ lists the whole bus again, endlessly.)
func TestNamesWalkWholeMount(t *testing.T) {
	owtest.Require(t, "tree", "python3")
	_, mnt := startNames(t, "10,28,05,23,29")
	for _, p := range []string{"structure/1F/main", "structure/1F/aux", "structure/12/aux", "uncached/structure/1F/main", "uncached/structure/12/aux"} {
		if got := mustRun(t, "stat", "-c", "%F", filepath.Join(mnt, p)); !strings.HasPrefix(got, "regular") {
			t.Errorf("stat %s: %q, want a regular file", p, got)
		}
		wantCat(t, "D,000000,000001,oo,000008,v,", filepath.Join(mnt, p))
	}
	for _, cmd := range [][]string{
		{"find", mnt},
		{"ls", "-laR", mnt},
		{"tree", "-a", mnt},
		{"python3", "-c", "import os, sys\ndef fail(e): raise e\nn = sum(len(d) + len(f) for _, d, f in os.walk(sys.argv[1], onerror=fail))\nprint(n)", mnt},
	} {
		r := run(t, nil, cmd[0], cmd[1:]...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%s: exit %d, stderr %q", cmd[0], r.code, r.stderr)
		}
		walked := len(lines(r.stdout))
		if cmd[0] == "python3" {
			walked, _ = strconv.Atoi(strings.TrimSpace(r.stdout))
		}
		if walked < 1000 {
			t.Errorf("%s walked %d names, want the whole tree (thousands)", cmd[0], walked)
		}
	}
}

// ls -a shows . and .. in every directory, and the mount root has an
// inode number.
func TestNamesDotsAndRootInode(t *testing.T) {
	_, mnt := startNames(t, namesFamilies)
	for _, dir := range []string{"", names10, names10 + "/errata", "bus.0/interface", "structure", names1F + "/main", "settings"} {
		got := lines(mustRun(t, "ls", "-a", filepath.Join(mnt, dir)))
		if len(got) < 3 || got[0] != "." || got[1] != ".." {
			t.Errorf("ls -a %s: %q, want . and .. first", dir, got)
		}
	}
	for _, cmd := range [][]string{{"stat", "-c", "%i", mnt}, {"ls", "-id", mnt}} {
		ino := strings.Fields(mustRun(t, cmd[0], cmd[1:]...))[0]
		if ino == "0" || ino == "" {
			t.Errorf("%q: inode %q, want a real one", cmd, ino)
		}
	}
	// "." in a listing is the directory itself.
	dot := strings.Fields(lines(mustRun(t, "ls", "-ai", filepath.Join(mnt, names10)))[0])[0]
	self := strings.TrimSpace(mustRun(t, "stat", "-c", "%i", filepath.Join(mnt, names10)))
	if dot != self {
		t.Errorf("ls -ai %s: . is inode %s, the directory %s", names10, dot, self)
	}
}

// modesAndNames keeps the first and last column of ls -l's lines.
func modesAndNames(ls string) string {
	var b strings.Builder
	for _, line := range lines(ls) {
		if f := strings.Fields(line); len(f) > 2 {
			b.WriteString(f[0] + " " + f[len(f)-1] + "\n")
		}
	}
	return b.String()
}
