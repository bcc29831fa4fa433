package integration

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
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
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// Where mount(8) and mount.fuse3 find owfuse. The tests put the binary
// under test there only inside a private mount namespace (helperNS), so
// they neither touch nor depend on what the host has installed.

// helperSbinLink is where mount(8) looks for the helper of -t owfuse
// (util-linux 2.38 tries /sbin, then /sbin/fs.d and /sbin/fs).
const helperSbinLink = "/sbin/mount.owfuse"

// helperShellDirs are where mount.fuse3's `/bin/sh -c "owfuse …"` finds
// owfuse for -t fuse.owfuse: mount(8) runs its helpers without PATH
// (util-linux 2.38 drops it from their environment), so /bin/sh falls back
// to its built-in default path
// (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin); a
// directory prepended to the test's PATH is never searched. The namespace
// puts owfuse on top of each of these that exists, so that an owfuse
// installed in any of them cannot shadow the binary under test.
var helperShellDirs = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin"}

// helperNS is a private mount namespace (unshare -m, propagation private)
// in which /sbin (/usr/sbin on merged-/usr systems), /usr/local/sbin and
// /usr/local/bin are read-only overlays of themselves under a directory
// that holds mount.owfuse and owfuse, symlinks to the binary under test.
// Nothing is written to the host's directories, and the mounts made in
// the namespace, overlays and owfuse mounts alike, are seen only there:
// programs run with ns.run, and the checks read the namespace's
// mountinfo. The namespace lives as long as a process in it: its holder
// (until the test ends) and the owfuse daemons mounted in it.
//
// A nil *helperNS is the test's own namespace.
type helperNS struct {
	pid   int // the holder; its /proc/PID/ns/mnt is the namespace
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// helperNamespace makes a namespace that lasts until t ends.
func helperNamespace(t *testing.T) *helperNS {
	t.Helper()
	requireFUSE(t)
	owtest.Require(t, "unshare", "nsenter", "mount", "umount")
	if os.Geteuid() != 0 {
		if owtest.InCI() {
			t.Fatal("mount(8) helpers and unshare -m need root (CI=true: fails the run)")
		}
		t.Skip("mount(8) helpers and unshare -m need root")
	}
	bin := t.TempDir()
	for _, name := range []string{filepath.Base(helperSbinLink), "owfuse"} {
		if err := os.Symlink(owfuseBin, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	sbin, err := filepath.EvalSymlinks(filepath.Dir(helperSbinLink))
	if err != nil {
		t.Fatal(err)
	}
	dirs := []string{sbin}
	for _, d := range helperShellDirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	// Overlays with two lower layers and no upper one are read-only:
	// bin's entries first, then the directory's own.
	const script = `set -e
bin=$1; shift
for d in "$@"; do mount -t overlay owfuse-test -o "lowerdir=$bin:$d" "$d"; done
echo ready
exec cat >/dev/null`
	ns := &helperNS{cmd: exec.Command("unshare", append([]string{"-m", "--propagation", "private", "sh", "-c", script, "sh", bin}, dirs...)...)}
	// Should the test binary die, the holder goes; daemons left in the
	// namespace keep it (and only it) until they are stopped.
	ns.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr := &owtest.Buffer{}
	ns.cmd.Stderr = stderr
	if ns.stdin, err = ns.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := ns.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	t.Cleanup(func() {
		ns.stdin.Close() // cat, the holder, exits at the end of its input
		ns.cmd.Wait()
	})
	if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		ns.stdin.Close()
		ns.cmd.Wait()
		t.Fatalf("private mount namespace: %q, %v; stderr %q", line, err, stderr.String())
	}
	ns.pid = ns.cmd.Process.Pid // unshare without --fork execs sh, which execs cat
	ns.detachFUSE(t)
	return ns
}

// detachFUSE detaches, in the namespace only, the FUSE mounts it copied
// from the test's own: other tests' and other people's. A copy would keep
// each one's FUSE connection alive after its owner unmounts it, so that
// its owfuse would not exit until this namespace ends. umount -c does not
// look at the path, which a hung server would block.
func (ns *helperNS) detachFUSE(t *testing.T) {
	t.Helper()
	for _, dir := range ns.fuseMounts(t) {
		ns.run(t, "umount", "-l", "-c", dir) // a parent's detach may have taken it
	}
	if left := ns.fuseMounts(t); len(left) > 0 {
		t.Fatalf("FUSE mounts copied into the namespace could not be detached there: %q", left)
	}
}

// fuseMounts returns the mountpoints of the namespace's FUSE mounts.
func (ns *helperNS) fuseMounts(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, e := range ns.mountinfo(t, "") {
		if e.FSType == "fuse" || strings.HasPrefix(e.FSType, "fuse.") || e.FSType == "fuseblk" {
			dirs = append(dirs, e.Dir)
		}
	}
	return dirs
}

// run runs a program in the namespace, as run does.
func (ns *helperNS) run(t *testing.T, name string, args ...string) result {
	t.Helper()
	if ns == nil {
		return run(t, nil, name, args...)
	}
	return run(t, nil, "nsenter", append([]string{fmt.Sprintf("--mount=/proc/%d/ns/mnt", ns.pid), "--", name}, args...)...)
}

// mustRun runs a program in the namespace that must succeed and returns
// its stdout.
func (ns *helperNS) mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	r := ns.run(t, name, args...)
	if r.code != 0 {
		t.Fatalf("%s %q exited %d; stderr %q", name, args, r.code, r.stderr)
	}
	return r.stdout
}

// helperProcMount is a mount's line of /proc/mounts.
type helperProcMount struct {
	source, fstype string
	options        []string
}

// procMounts returns the namespace's mounts at dir.
func (ns *helperNS) procMounts(t *testing.T, dir string) []helperProcMount {
	t.Helper()
	var out []helperProcMount
	if ns == nil {
		ms, err := mountlib.Mounts(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ms {
			out = append(out, helperProcMount{source: e.Source, fstype: e.FSType, options: e.Options})
		}
		return out
	}
	for _, e := range ns.mountinfo(t, dir) {
		out = append(out, helperProcMount{source: e.Source, fstype: e.FSType, options: e.Options})
	}
	return out
}

// mountinfo returns the namespace's mounts at dir ("": all).
func (ns *helperNS) mountinfo(t *testing.T, dir string) []mountlib.MountEntry {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", ns.pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := mountlib.ParseMountinfo(f, dir)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// isMounted reports whether something is mounted at dir in the namespace.
func (ns *helperNS) isMounted(t *testing.T, dir string) bool {
	return len(ns.procMounts(t, dir)) > 0
}

// waitUnmounted polls until nothing is mounted at dir in the namespace,
// for up to limit.
func (ns *helperNS) waitUnmounted(t *testing.T, dir string, limit time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(limit)
	for ns.isMounted(t, dir) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval) // polling interval, not synchronisation
	}
	return true
}

// mountDir returns a new empty mountpoint. When t ends, an owfuse still
// serving it gets SIGTERM, and must then exit and take its mount with it;
// otherwise it gets SIGKILL, a mount left behind is detached with
// umount -l, and t fails.
func (ns *helperNS) mountDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		pids := daemonStop(t, dir)
		if !ns.waitUnmounted(t, dir, unmountDeadline) {
			ms := ns.procMounts(t, dir)
			r := ns.run(t, "umount", "-l", dir)
			t.Errorf("%s was still mounted when the test ended (%+v; owfuse %v stopped); umount -l: exit %d %s", dir, ms, pids, r.code, r.stderr)
		}
	})
	return dir
}

// umount unmounts dir with umount(8) and checks that the mount is gone
// and that the owfuse that served it exits.
func (ns *helperNS) umount(t *testing.T, dir string) {
	t.Helper()
	pids := daemonPids(t, dir)
	if len(pids) != 1 {
		t.Errorf("%d owfuse processes serve %s, want 1: %v", len(pids), dir, pids)
	}
	if r := ns.run(t, "umount", dir); r.code != 0 {
		t.Errorf("umount %s: exit %d, stderr %q", dir, r.code, r.stderr)
	}
	if !ns.waitUnmounted(t, dir, unmountDeadline) {
		t.Errorf("%s is still mounted after umount", dir)
	}
	for _, pid := range pids {
		if !daemonWaitGone(pid, stopDeadline) {
			t.Errorf("owfuse (pid %d) still runs %v after umount %s", pid, stopDeadline, dir)
		}
	}
}

// wantServes checks that dir lists the tester's devices, at once: the
// mount must answer when the mount command returns.
func (ns *helperNS) wantServes(t *testing.T, dir string) {
	t.Helper()
	got := lines(ns.mustRun(t, "ls", dir))
	for _, d := range []string{tester10, tester28} {
		if !slices.Contains(got, strings.TrimPrefix(d, "/")) {
			t.Errorf("ls %s: got %q, want %s in it", dir, got, d)
		}
	}
}

// wantNothingMounted checks that a failed or fake mount left no mount and
// no owfuse behind.
func (ns *helperNS) wantNothingMounted(t *testing.T, dir string) {
	t.Helper()
	if ns.isMounted(t, dir) {
		t.Errorf("%s is mounted", dir)
	}
	if pids := daemonPids(t, dir); len(pids) != 0 {
		t.Errorf("owfuse processes %v serve %s, want none", pids, dir)
	}
}

// helperMountDir returns a new empty mountpoint in the test's own
// namespace; see daemonCleanup.
func helperMountDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	daemonCleanup(t, dir)
	return dir
}

// helperWantServes is wantServes in the test's own namespace.
func helperWantServes(t *testing.T, dir string) {
	t.Helper()
	(*helperNS)(nil).wantServes(t, dir)
}

// helperWantNothingMounted is wantNothingMounted in the test's own
// namespace.
func helperWantNothingMounted(t *testing.T, dir string) {
	t.Helper()
	(*helperNS)(nil).wantNothingMounted(t, dir)
}

// TestHelperMount mounts through the real mount(8): as -t owfuse (the
// /sbin/mount.owfuse helper), as -t fuse.owfuse (mount.fuse3 running
// owfuse), from an fstab line, and fake (-f); umount(8) undoes each mount
// and the serving process exits. All of it happens in a private mount
// namespace where the helpers are the binary under test (see helperNS),
// whatever the host has installed.
func TestHelperMount(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	owtest.Require(t, "mount", "umount", "owread")
	ns := helperNamespace(t)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr

	t.Run("type owfuse", func(t *testing.T) {
		t.Parallel()
		mnt := ns.mountDir(t)
		r := ns.run(t, "mount", "-t", "owfuse", addr, mnt, "-o", "ro,allow_other,temp_scale=F")
		if r.code != 0 {
			t.Fatalf("mount -t owfuse: exit %d, stderr %q", r.code, r.stderr)
		}
		if r.stdout != "" || r.stderr != "" {
			t.Errorf("mount -t owfuse printed stdout %q, stderr %q; want nothing", r.stdout, r.stderr)
		}
		ns.wantServes(t, mnt)
		temp := filepath.Join(mnt, tester10, "temperature")
		got := ns.mustRun(t, "cat", temp)
		if _, err := strconv.ParseFloat(strings.TrimSpace(got), 64); err != nil {
			t.Errorf("cat %s: got %q, want a number", temp, got)
		}
		if want := strings.TrimSpace(mustRun(t, "owread", "-s", addr, "-F", tester10+"/temperature")) + "\n"; got != want {
			t.Errorf("cat %s with temp_scale=F: got %q, want owread -F's %q", temp, got, want)
		}
		wantRefused(t, "echo 20 > temphigh", ns.run(t, "sh", "-c", `echo 20 > "$1"`, "sh", filepath.Join(mnt, tester10, "temphigh")), "Read-only file system")
		ms := ns.procMounts(t, mnt)
		if len(ms) != 1 {
			t.Fatalf("%d lines for %s in /proc/mounts, want 1: %+v", len(ms), mnt, ms)
		}
		if ms[0].fstype != "fuse.owfuse" || ms[0].source != addr || !slices.Contains(ms[0].options, "ro") || !slices.Contains(ms[0].options, "allow_other") {
			t.Errorf("/proc/mounts: %+v; want fuse.owfuse from %s with ro and allow_other", ms[0], addr)
		}
		ns.umount(t, mnt)
	})

	t.Run("type fuse.owfuse", func(t *testing.T) {
		t.Parallel()
		mnt := ns.mountDir(t)
		r := ns.run(t, "mount", "-t", "fuse.owfuse", addr, mnt, "-o", "ro")
		if r.code != 0 {
			t.Fatalf("mount -t fuse.owfuse: exit %d, stderr %q", r.code, r.stderr)
		}
		ns.wantServes(t, mnt)
		wantRefused(t, "echo 20 > temphigh", ns.run(t, "sh", "-c", `echo 20 > "$1"`, "sh", filepath.Join(mnt, tester10, "temphigh")), "Read-only file system")
		if ms := ns.procMounts(t, mnt); len(ms) != 1 || ms[0].fstype != "fuse.owfuse" || !slices.Contains(ms[0].options, "ro") {
			t.Errorf("/proc/mounts for %s: %+v; want one fuse.owfuse mount with ro", mnt, ms)
		}
		ns.umount(t, mnt)
	})

	t.Run("fstab", func(t *testing.T) {
		t.Parallel()
		mnt := ns.mountDir(t)
		fstab := filepath.Join(t.TempDir(), "fstab")
		line := addr + " " + mnt + " owfuse _netdev,nofail,allow_other 0 0\n"
		if err := os.WriteFile(fstab, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		// mount MOUNTPOINT, as `mount /mnt/1wire` with the line in /etc/fstab.
		if r := ns.run(t, "mount", "--fstab", fstab, mnt); r.code != 0 {
			t.Fatalf("mount --fstab %s %s: exit %d, stderr %q", fstab, mnt, r.code, r.stderr)
		}
		ns.wantServes(t, mnt)
		if ms := ns.procMounts(t, mnt); len(ms) != 1 || ms[0].fstype != "fuse.owfuse" || !slices.Contains(ms[0].options, "allow_other") {
			t.Errorf("/proc/mounts for %s: %+v; want one fuse.owfuse mount with allow_other", mnt, ms)
		}
		// mount -a leaves a mounted line alone.
		if r := ns.run(t, "mount", "-a", "-T", fstab); r.code != 0 {
			t.Errorf("mount -a with %s mounted: exit %d, stderr %q", mnt, r.code, r.stderr)
		}
		if n := len(ns.procMounts(t, mnt)); n != 1 {
			t.Errorf("%d mounts at %s after mount -a, want 1", n, mnt)
		}
		if pids := daemonPids(t, mnt); len(pids) != 1 {
			t.Errorf("%d owfuse processes serve %s after mount -a, want 1: %v", len(pids), mnt, pids)
		}
		ns.umount(t, mnt)
		// and mounts it when it is not.
		if r := ns.run(t, "mount", "-a", "-T", fstab); r.code != 0 {
			t.Fatalf("mount -a -T %s: exit %d, stderr %q", fstab, r.code, r.stderr)
		}
		ns.wantServes(t, mnt)
		ns.umount(t, mnt)
	})

	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		mnt := ns.mountDir(t)
		r := ns.run(t, "mount", "-f", "-t", "owfuse", addr, mnt)
		if r.code != 0 {
			t.Errorf("mount -f -t owfuse: exit %d, stderr %q", r.code, r.stderr)
		}
		ns.wantNothingMounted(t, mnt)
		// -f checks the options: a bad one fails even so.
		r = ns.run(t, "mount", "-f", "-t", "owfuse", addr, mnt, "-o", "bogus")
		wantRefused(t, "mount -f -o bogus", r, `"bogus"`)
		ns.wantNothingMounted(t, mnt)
	})

	t.Run("unknown option", func(t *testing.T) {
		t.Parallel()
		mnt := ns.mountDir(t)
		r := ns.run(t, "mount", "-t", "owfuse", addr, mnt, "-o", "ro,bogus")
		if r.code == 0 {
			t.Errorf("mount -o ro,bogus succeeded, want a failure")
		}
		if ls := lines(r.stderr); len(ls) != 1 || !strings.Contains(ls[0], `"bogus"`) {
			t.Errorf("mount -o ro,bogus: stderr %q, want one line naming \"bogus\"", r.stderr)
		}
		ns.wantNothingMounted(t, mnt)
	})

	// What an fstab line carries for mount(8), mount.fuse3 and systemd is
	// accepted and ignored. mount(8) keeps some of it (auto, noauto, x-*,
	// comment= never reach a helper), so the helper is also run directly.
	const ignored = "_netdev,nofail,auto,noauto,user,users,dev,nodev,suid,nosuid,exec,noexec,rw,x-systemd.automount,comment=x"
	t.Run("ignored options via mount", func(t *testing.T) {
		t.Parallel()
		mnt := ns.mountDir(t)
		if r := ns.run(t, "mount", "-t", "owfuse", addr, mnt, "-o", ignored); r.code != 0 {
			t.Fatalf("mount -o %s: exit %d, stderr %q", ignored, r.code, r.stderr)
		}
		ns.wantServes(t, mnt)
		ns.umount(t, mnt)
	})
	t.Run("ignored options to the helper", func(t *testing.T) {
		t.Parallel()
		mnt := ns.mountDir(t)
		if r := ns.run(t, helperSbinLink, addr, mnt, "-o", ignored); r.code != 0 {
			t.Fatalf("%s -o %s: exit %d, stderr %q", helperSbinLink, ignored, r.code, r.stderr)
		}
		ns.wantServes(t, mnt)
		ns.umount(t, mnt)
		if r := ns.run(t, helperSbinLink, addr, mnt, "-f", "-o", ignored); r.code != 0 {
			t.Errorf("%s -f -o %s: exit %d, stderr %q", helperSbinLink, ignored, r.code, r.stderr)
		}
		ns.wantNothingMounted(t, mnt)
	})
}

// TestHelperMakeInstall: make install puts owfuse in PREFIX/bin and the
// mount helper, a symlink to it, in /sbin, both under DESTDIR; make
// uninstall removes both.
func TestHelperMakeInstall(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "make")
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	vars := []string{"DESTDIR=" + dest, "PREFIX=/usr"}
	if r := run(t, nil, "make", append([]string{"-C", root, "install"}, vars...)...); r.code != 0 {
		t.Fatalf("make install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	files := helperFiles(t, dest)
	if want := []string{"sbin/mount.owfuse", "usr/bin/owfuse", "usr/share/man/man8/mount.owfuse.8", "usr/share/man/man8/owfuse.8"}; !slices.Equal(files, want) {
		t.Errorf("make install made %q, want %q", files, want)
	}
	bin := filepath.Join(dest, "usr/bin/owfuse")
	if fi, err := os.Lstat(bin); err != nil {
		t.Error(err)
	} else if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
		t.Errorf("%s: mode %v, want a regular file with 0755", bin, fi.Mode())
	}
	if r := run(t, nil, bin, "--help"); r.code != 0 || !strings.Contains(r.stdout, "owfuse") {
		t.Errorf("installed owfuse --help: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	link := filepath.Join(dest, "sbin/mount.owfuse")
	if target, err := os.Readlink(link); err != nil || target != "/usr/bin/owfuse" {
		t.Errorf("%s: readlink %q, %v; want a symlink to /usr/bin/owfuse", link, target, err)
	}
	if r := run(t, nil, "make", append([]string{"-C", root, "uninstall"}, vars...)...); r.code != 0 {
		t.Fatalf("make uninstall: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if files := helperFiles(t, dest); len(files) != 0 {
		t.Errorf("make uninstall left %q", files)
	}
}

// helperFiles returns everything but directories under root, relative to
// it, sorted.
func helperFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}
