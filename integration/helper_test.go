package integration

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
	"github.com/owfuse/owfuse/owfs"
)

// Where mount(8) and mount.fuse3 find owfuse. Both are global: the tests
// that put links there take helperLock first, and remove the links when
// they end, however they end.
const (
	// helperSbinLink is where mount(8) looks for the helper of -t owfuse.
	helperSbinLink = "/sbin/mount.owfuse"
	// helperShellLink is where mount.fuse3's `/bin/sh -c "owfuse …"` finds
	// owfuse for -t fuse.owfuse. mount(8) runs its helpers without PATH
	// (util-linux 2.38 drops it from their environment), so /bin/sh falls
	// back to its built-in default path
	// (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin); a
	// directory prepended to the test's PATH is never searched.
	// /usr/local/sbin comes first in that path, so an owfuse installed in
	// /usr/local/bin or /usr/bin cannot shadow the binary under test.
	helperShellLink = "/usr/local/sbin/owfuse"
	// helperLockDir is flock(2)ed while a test owns the links: by the
	// tests of this process, and by those of another `go test` running at
	// the same time.
	helperLockDir = "/sbin"
)

// helperLock waits until no other test owns the global links and owns
// them until t ends.
func helperLock(t *testing.T) {
	t.Helper()
	f, err := os.Open(helperLockDir)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			t.Fatalf("flock %s: %v", helperLockDir, err)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
	t.Cleanup(func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// helperInstallLink makes link a symlink to the binary under test until t
// ends. A file already there is someone's installation: the test skips
// rather than replace it.
func helperInstallLink(t *testing.T, link string) {
	t.Helper()
	if _, err := os.Lstat(link); err == nil {
		if owtest.InCI() {
			t.Fatalf("%s exists already (an installed owfuse?); CI=true: not replacing it fails the run", link)
		}
		t.Skipf("%s exists already (an installed owfuse?); not replacing it", link)
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.Symlink(owfuseBin, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if dest, err := os.Readlink(link); err == nil && dest == owfuseBin {
			if err := os.Remove(link); err != nil {
				t.Errorf("remove %s: %v", link, err)
			}
		}
	})
}

// helperProcMount is a mount's line of /proc/mounts.
type helperProcMount struct {
	source, fstype string
	options        []string
}

// helperProcMounts returns the lines of /proc/mounts for dir.
func helperProcMounts(t *testing.T, dir string) []helperProcMount {
	t.Helper()
	ms, err := owfs.Mounts(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []helperProcMount
	for _, e := range ms {
		out = append(out, helperProcMount{source: e.Source, fstype: e.FSType, options: e.Options})
	}
	return out
}

// helperMountDir returns a new empty mountpoint. When t ends, an owfuse
// still serving it is stopped and a mount still there is detached (see
// daemonCleanup).
func helperMountDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	daemonCleanup(t, dir)
	return dir
}

// helperUmount unmounts dir with umount(8) and checks that the mount is
// gone and that the owfuse that served it exits.
func helperUmount(t *testing.T, dir string) {
	t.Helper()
	pids := daemonPids(t, dir)
	if len(pids) != 1 {
		t.Errorf("%d owfuse processes serve %s, want 1: %v", len(pids), dir, pids)
	}
	if r := run(t, nil, "umount", dir); r.code != 0 {
		t.Errorf("umount %s: exit %d, stderr %q", dir, r.code, r.stderr)
	}
	if !waitUnmounted(t, dir, unmountDeadline) {
		t.Errorf("%s is still mounted after umount", dir)
	}
	for _, pid := range pids {
		if !daemonWaitGone(pid, stopDeadline) {
			t.Errorf("owfuse (pid %d) still runs %v after umount %s", pid, stopDeadline, dir)
		}
	}
}

// helperWantServes checks that dir lists the tester's devices, at once:
// the mount must answer when the mount command returns.
func helperWantServes(t *testing.T, dir string) {
	t.Helper()
	got := lines(mustRun(t, "ls", dir))
	for _, d := range []string{tester10, tester28} {
		if !slices.Contains(got, strings.TrimPrefix(d, "/")) {
			t.Errorf("ls %s: got %q, want %s in it", dir, got, d)
		}
	}
}

// helperWantNothingMounted checks that a failed or fake mount left no
// mount and no owfuse behind.
func helperWantNothingMounted(t *testing.T, dir string) {
	t.Helper()
	if isMounted(t, dir) {
		t.Errorf("%s is mounted", dir)
	}
	if pids := daemonPids(t, dir); len(pids) != 0 {
		t.Errorf("owfuse processes %v serve %s, want none", pids, dir)
	}
}

// TestHelperMount mounts through the real mount(8): as -t owfuse (the
// /sbin/mount.owfuse helper), as -t fuse.owfuse (mount.fuse3 running
// owfuse), from an fstab line, and fake (-f); umount(8) undoes each mount
// and the serving process exits. The subtests run one after the other:
// the helper links are global.
func TestHelperMount(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	owtest.Require(t, "mount", "umount", "owread")
	helperLock(t)
	helperInstallLink(t, helperSbinLink)
	addr := owtest.StartOwserver(t, "--tester", "10,28").Addr

	t.Run("type owfuse", func(t *testing.T) {
		mnt := helperMountDir(t)
		r := run(t, nil, "mount", "-t", "owfuse", addr, mnt, "-o", "ro,allow_other,temp_scale=F")
		if r.code != 0 {
			t.Fatalf("mount -t owfuse: exit %d, stderr %q", r.code, r.stderr)
		}
		if r.stdout != "" || r.stderr != "" {
			t.Errorf("mount -t owfuse printed stdout %q, stderr %q; want nothing", r.stdout, r.stderr)
		}
		helperWantServes(t, mnt)
		temp := filepath.Join(mnt, tester10, "temperature")
		got := mustRun(t, "cat", temp)
		if _, err := strconv.ParseFloat(strings.TrimSpace(got), 64); err != nil {
			t.Errorf("cat %s: got %q, want a number", temp, got)
		}
		if want := strings.TrimSpace(mustRun(t, "owread", "-s", addr, "-F", tester10+"/temperature")) + "\n"; got != want {
			t.Errorf("cat %s with temp_scale=F: got %q, want owread -F's %q", temp, got, want)
		}
		wantRefused(t, "echo 20 > temphigh", run(t, nil, "sh", "-c", `echo 20 > "$1"`, "sh", filepath.Join(mnt, tester10, "temphigh")), "Read-only file system")
		ms := helperProcMounts(t, mnt)
		if len(ms) != 1 {
			t.Fatalf("%d lines for %s in /proc/mounts, want 1: %+v", len(ms), mnt, ms)
		}
		if ms[0].fstype != "fuse.owfuse" || ms[0].source != addr || !slices.Contains(ms[0].options, "ro") || !slices.Contains(ms[0].options, "allow_other") {
			t.Errorf("/proc/mounts: %+v; want fuse.owfuse from %s with ro and allow_other", ms[0], addr)
		}
		helperUmount(t, mnt)
	})

	t.Run("type fuse.owfuse", func(t *testing.T) {
		helperInstallLink(t, helperShellLink)
		mnt := helperMountDir(t)
		r := run(t, nil, "mount", "-t", "fuse.owfuse", addr, mnt, "-o", "ro")
		if r.code != 0 {
			t.Fatalf("mount -t fuse.owfuse: exit %d, stderr %q", r.code, r.stderr)
		}
		helperWantServes(t, mnt)
		wantRefused(t, "echo 20 > temphigh", run(t, nil, "sh", "-c", `echo 20 > "$1"`, "sh", filepath.Join(mnt, tester10, "temphigh")), "Read-only file system")
		if ms := helperProcMounts(t, mnt); len(ms) != 1 || ms[0].fstype != "fuse.owfuse" || !slices.Contains(ms[0].options, "ro") {
			t.Errorf("/proc/mounts for %s: %+v; want one fuse.owfuse mount with ro", mnt, ms)
		}
		helperUmount(t, mnt)
	})

	t.Run("fstab", func(t *testing.T) {
		mnt := helperMountDir(t)
		fstab := filepath.Join(t.TempDir(), "fstab")
		line := addr + " " + mnt + " owfuse _netdev,nofail,allow_other 0 0\n"
		if err := os.WriteFile(fstab, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
		// mount MOUNTPOINT, as `mount /mnt/1wire` with the line in /etc/fstab.
		if r := run(t, nil, "mount", "--fstab", fstab, mnt); r.code != 0 {
			t.Fatalf("mount --fstab %s %s: exit %d, stderr %q", fstab, mnt, r.code, r.stderr)
		}
		helperWantServes(t, mnt)
		if ms := helperProcMounts(t, mnt); len(ms) != 1 || ms[0].fstype != "fuse.owfuse" || !slices.Contains(ms[0].options, "allow_other") {
			t.Errorf("/proc/mounts for %s: %+v; want one fuse.owfuse mount with allow_other", mnt, ms)
		}
		// mount -a leaves a mounted line alone.
		if r := run(t, nil, "mount", "-a", "-T", fstab); r.code != 0 {
			t.Errorf("mount -a with %s mounted: exit %d, stderr %q", mnt, r.code, r.stderr)
		}
		if n := len(mounts(t, mnt)); n != 1 {
			t.Errorf("%d mounts at %s after mount -a, want 1", n, mnt)
		}
		if pids := daemonPids(t, mnt); len(pids) != 1 {
			t.Errorf("%d owfuse processes serve %s after mount -a, want 1: %v", len(pids), mnt, pids)
		}
		helperUmount(t, mnt)
		// and mounts it when it is not.
		if r := run(t, nil, "mount", "-a", "-T", fstab); r.code != 0 {
			t.Fatalf("mount -a -T %s: exit %d, stderr %q", fstab, r.code, r.stderr)
		}
		helperWantServes(t, mnt)
		helperUmount(t, mnt)
	})

	t.Run("fake", func(t *testing.T) {
		mnt := helperMountDir(t)
		r := run(t, nil, "mount", "-f", "-t", "owfuse", addr, mnt)
		if r.code != 0 {
			t.Errorf("mount -f -t owfuse: exit %d, stderr %q", r.code, r.stderr)
		}
		helperWantNothingMounted(t, mnt)
		// -f checks the options: a bad one fails even so.
		r = run(t, nil, "mount", "-f", "-t", "owfuse", addr, mnt, "-o", "bogus")
		wantRefused(t, "mount -f -o bogus", r, `"bogus"`)
		helperWantNothingMounted(t, mnt)
	})

	t.Run("unknown option", func(t *testing.T) {
		mnt := helperMountDir(t)
		r := run(t, nil, "mount", "-t", "owfuse", addr, mnt, "-o", "ro,bogus")
		if r.code == 0 {
			t.Errorf("mount -o ro,bogus succeeded, want a failure")
		}
		if ls := lines(r.stderr); len(ls) != 1 || !strings.Contains(ls[0], `"bogus"`) {
			t.Errorf("mount -o ro,bogus: stderr %q, want one line naming \"bogus\"", r.stderr)
		}
		helperWantNothingMounted(t, mnt)
	})

	// What an fstab line carries for mount(8), mount.fuse3 and systemd is
	// accepted and ignored. mount(8) keeps some of it (auto, noauto, x-*,
	// comment= never reach a helper), so the helper is also run directly.
	const ignored = "_netdev,nofail,auto,noauto,user,users,dev,nodev,suid,nosuid,exec,noexec,rw,x-systemd.automount,comment=x"
	t.Run("ignored options via mount", func(t *testing.T) {
		mnt := helperMountDir(t)
		if r := run(t, nil, "mount", "-t", "owfuse", addr, mnt, "-o", ignored); r.code != 0 {
			t.Fatalf("mount -o %s: exit %d, stderr %q", ignored, r.code, r.stderr)
		}
		helperWantServes(t, mnt)
		helperUmount(t, mnt)
	})
	t.Run("ignored options to the helper", func(t *testing.T) {
		mnt := helperMountDir(t)
		if r := run(t, nil, helperSbinLink, addr, mnt, "-o", ignored); r.code != 0 {
			t.Fatalf("%s -o %s: exit %d, stderr %q", helperSbinLink, ignored, r.code, r.stderr)
		}
		helperWantServes(t, mnt)
		helperUmount(t, mnt)
		if r := run(t, nil, helperSbinLink, addr, mnt, "-f", "-o", ignored); r.code != 0 {
			t.Errorf("%s -f -o %s: exit %d, stderr %q", helperSbinLink, ignored, r.code, r.stderr)
		}
		helperWantNothingMounted(t, mnt)
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
