package owfs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// A copy is exact, loud (the program failed, saying so) or wrong (it
// succeeded with other bytes than the value: the failure this measures).
const (
	exact = "exact"
	loud  = "loud"
	wrong = "WRONG"
)

// copier copies the file at src the way one program does, and returns
// what it produced (or an error for a program that failed).
type copier struct {
	name string
	copy func(t *testing.T, src string) ([]byte, error)
}

func runProgram(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", name, err, errb.String())
	}
	return out.Bytes(), nil
}

var copiers = []copier{
	{"cat", func(t *testing.T, src string) ([]byte, error) { return runProgram("cat", src) }},
	{"busybox cat", func(t *testing.T, src string) ([]byte, error) { return runProgram("busybox", "cat", src) }},
	{"shutil.copyfile", func(t *testing.T, src string) ([]byte, error) {
		dst := filepath.Join(t.TempDir(), "copy")
		if _, err := runProgram("python3", "-c", "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])", src, dst); err != nil {
			return nil, err
		}
		return os.ReadFile(dst)
	}},
	{"tar", func(t *testing.T, src string) ([]byte, error) {
		tarball := filepath.Join(t.TempDir(), "x.tar")
		if _, err := runProgram("tar", "-cf", tarball, "-C", filepath.Dir(src), filepath.Base(src)); err != nil {
			return nil, err
		}
		return runProgram("tar", "-xOf", tarball)
	}},
	{"busybox tar", func(t *testing.T, src string) ([]byte, error) {
		tarball := filepath.Join(t.TempDir(), "x.tar")
		if _, err := runProgram("busybox", "tar", "-cf", tarball, "-C", filepath.Dir(src), filepath.Base(src)); err != nil {
			return nil, err
		}
		return runProgram("tar", "-xOf", tarball)
	}},
	{"Python tarfile", func(t *testing.T, src string) ([]byte, error) {
		tarball := filepath.Join(t.TempDir(), "x.tar")
		if _, err := runProgram("python3", "-c", "import tarfile, sys\nwith tarfile.open(sys.argv[1], 'w') as t: t.add(sys.argv[2], 'v')", tarball, src); err != nil {
			return nil, err
		}
		return runProgram("tar", "-xOf", tarball)
	}},
	{"rsync", func(t *testing.T, src string) ([]byte, error) {
		dst := filepath.Join(t.TempDir(), "copy")
		if _, err := runProgram("rsync", "-a", src, dst); err != nil {
			return nil, err
		}
		return os.ReadFile(dst)
	}},
	{"wc -c", func(t *testing.T, src string) ([]byte, error) {
		out, err := runProgram("wc", "-c", src)
		if err != nil {
			return nil, err
		}
		// The count stands for the bytes: as many X as it says.
		var n int
		fmt.Sscanf(string(out), "%d", &n)
		return bytes.Repeat([]byte{'X'}, n), nil
	}},
	{"hexdump -s 1", func(t *testing.T, src string) ([]byte, error) {
		out, err := runProgram("hexdump", "-v", "-e", `1/1 "%c"`, "-s", "1", src)
		if err != nil {
			return nil, err
		}
		return append([]byte{'?'}, out...), nil // the skipped byte
	}},
}

// judge compares what a program produced with the value.
func judge(c copier, got []byte, err error, value []byte) string {
	switch {
	case err != nil:
		return loud
	case c.name == "wc -c":
		if len(got) == len(value) {
			return exact
		}
	case c.name == "hexdump -s 1":
		if len(value) > 0 && bytes.Equal(got[1:], value[1:]) {
			return exact
		}
	case bytes.Equal(got, value):
		return exact
	}
	return wrong
}

// TestSizeSchemes measures each way of reporting a file's size against the
// programs that trust it (sendfile in busybox cat and Python's shutil,
// GNU and busybox tar, Python's tarfile, rsync, wc -c, hexdump -s): on a
// cold mount, again warm, and after the value grew behind the mount's
// back (another client wrote a longer one; a mount with stable_ttl=0 sees
// it). It prints the table the README quotes. The chosen scheme must
// never be wrong (exact, or a loud failure); size 0, the old scheme, and
// the last value's length, a first try, must show the wrong copies they
// make, or this test could not see them.
func TestSizeSchemes(t *testing.T) {
	owtest.Require(t, "busybox", "python3", "tar", "rsync", "hexdump", "owwrite")
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if owtest.InCI() {
			t.Fatal("/dev/fuse is missing (CI=true: this fails the run)")
		}
		t.Skip("no /dev/fuse")
	}
	srv := owtest.StartOwserver(t, "--tester", "10,28")
	// A width longer than the value, a value without a width, a value
	// shorter than its width.
	files := []string{"10.000010EF0000/type", "settings/timeout/volatile", "28.000028D70100/temperature"}
	const grows = "/settings/timeout/ftp" // a setting another client changes
	schemes := []struct {
		name string
		s    sizeScheme
	}{
		{"**guess, corrected at open, kept while cached (chosen)**", sizeGuess},
		{"0 (owfuse before; /proc)", sizeZero},
		{"structure width (like OWFS's `owfs`)", sizeWidth},
		{"cached value's length, else 0", sizeCachedOnly},
		{"4096, short page-cache reads", sizePage},
		{"last value's length, corrected at open", sizeLast},
	}
	type mounted struct {
		Dir     string
		unmount func()
	}
	mount := func(sc sizeScheme, stableTTL time.Duration) mounted {
		lt := cache.DefaultLifetimes()
		lt.Stable = stableTTL
		dir, unmount := realMount(t, srv.Addr, lt, Options{Newline: true, sizing: sc})
		return mounted{dir, unmount}
	}
	unmount := func(m mounted) { m.unmount() }
	table := map[sizeScheme]map[string]string{}
	for _, sc := range schemes {
		table[sc.s] = map[string]string{}
		for _, c := range copiers {
			verdict := exact
			note := func(what string, got []byte, err error, value []byte) {
				if v := judge(c, got, err, value); v == wrong || (v == loud && verdict == exact) {
					if v != verdict {
						t.Logf("size %s, %s %s: %s (got %q, err %v, value %q)", sc.name, c.name, what, v, got, err, value)
					}
					verdict = v
				}
			}
			m := mount(sc.s, cache.DefaultLifetimes().Stable)
			for _, f := range append(files, files...) { // cold, then warm
				src := filepath.Join(m.Dir, f)
				got, err := c.copy(t, src)
				value, rerr := os.ReadFile(src) // direct I/O: the value
				if rerr != nil {
					t.Fatal(rerr)
				}
				note(f, got, err, value)
			}
			unmount(m)

			m = mount(sc.s, 0)
			src := filepath.Join(m.Dir, grows)
			if _, err := runProgram("owwrite", "-s", srv.Addr, grows, "7"); err != nil {
				t.Fatal(err)
			}
			if _, err := os.ReadFile(src); err != nil { // the mount sees 7
				t.Fatal(err)
			}
			if _, err := runProgram("owwrite", "-s", srv.Addr, grows, "123456789"); err != nil {
				t.Fatal(err)
			}
			got, err := c.copy(t, src)
			value, rerr := os.ReadFile(src)
			if rerr != nil {
				t.Fatal(rerr)
			}
			note("after the value grew", got, err, value)
			unmount(m)
			table[sc.s][c.name] = verdict
		}
	}
	var b strings.Builder
	b.WriteString("| size reported |")
	for _, c := range copiers {
		b.WriteString(" " + c.name + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(copiers)) + "\n")
	for _, sc := range schemes {
		b.WriteString("| " + sc.name + " |")
		for _, c := range copiers {
			b.WriteString(" " + table[sc.s][c.name] + " |")
		}
		b.WriteString("\n")
	}
	t.Logf("FIGURE size schemes against programs (cold, warm, and after the value grew):\n%s", b.String())
	for _, c := range copiers {
		if v := table[sizeGuess][c.name]; v == wrong {
			t.Errorf("chosen scheme: %s is %s", c.name, v)
		}
	}
	for _, c := range []string{"cat", "busybox cat", "shutil.copyfile", "tar", "rsync", "wc -c", "hexdump -s 1"} {
		if v := table[sizeGuess][c]; v != exact {
			t.Errorf("chosen scheme: %s is %s, want exact (it asks again after open, or does not trust the size)", c, v)
		}
	}
	if table[sizeZero]["busybox cat"] != wrong || table[sizeZero]["tar"] != wrong {
		t.Errorf("size 0 should copy nothing with busybox cat and tar (it did before this scheme): %v", table[sizeZero])
	}
	if table[sizeLast]["busybox tar"] != wrong {
		t.Errorf("the last value's length should make busybox tar copy a grown value short: %v", table[sizeLast])
	}
}
