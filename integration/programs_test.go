package integration

// The programs people run on the mount (bash idioms, dd, Python, busybox,
// tar, rsync), each checked against what reached owserver: a relay in
// front of the real server records every message, since --tester keeps
// only settings and aliases of what is written.

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// Devices of `owserver --tester 10,28,05,23,29` besides tester10/28.
const (
	tester05 = "/05.000005FA0200" // DS2405 switch: PIO is yes/no
	tester23 = "/23.000023DC0300" // DS2433 EEPROM: pages/page.N, memory
	tester29 = "/29.000029D60400" // DS2408 8 switches: PIO.ALL
)

// relayedMount starts `owserver --tester 10,28,05,23,29`, a relay in front
// of it and a mount of the relay; it returns the server, the relay and
// the mountpoint.
func relayedMount(t *testing.T, args ...string) (*owtest.Owserver, *owtest.Relay, string) {
	t.Helper()
	requireFUSE(t)
	owtest.Require(t, "owread", "owwrite")
	srv := owtest.StartOwserver(t, "--tester", "10,28,05,23,29")
	relay := owtest.NewRelay(t, srv.Addr)
	return srv, relay, mountOrFatal(t, relay.Addr, args...)
}

// written returns the data of every WRITE of path that reached owserver,
// with its offset when it is not 0 ("XY@5").
func written(relay *owtest.Relay, path string) []string {
	var out []string
	for _, q := range relay.Writes(path) {
		s := string(q.Data())
		if q.Offset != 0 {
			s += fmt.Sprintf("@%d", q.Offset)
		}
		out = append(out, s)
	}
	return out
}

// reads counts the READs of path that reached owserver.
func reads(relay *owtest.Relay, path string) int {
	n := 0
	for _, q := range relay.Requests() {
		if q.Type == owclient.MsgRead && q.Path() == path {
			n++
		}
	}
	return n
}

func wantWritten(t *testing.T, what string, relay *owtest.Relay, path string, want ...string) {
	t.Helper()
	got := written(relay, path)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: owserver received writes %q of %s, want %q", what, got, path, want)
	}
}

// bash runs a bash script; the path of the mount is $M in it.
func bash(t *testing.T, mnt, script string) result {
	t.Helper()
	return run(t, []string{"M=" + mnt}, "bash", "-c", script)
}

// python runs a Python program; the path of the mount is M in it.
func python(t *testing.T, mnt, program string) result {
	t.Helper()
	owtest.Require(t, "python3")
	return run(t, nil, "python3", "-c", "import os, sys, shutil\nM = "+fmt.Sprintf("%q", mnt)+"\n"+program)
}

// bashOrPython runs the Python program if there is one, else the script.
func bashOrPython(t *testing.T, mnt, script, program string) result {
	t.Helper()
	if program != "" {
		return python(t, mnt, program)
	}
	return bash(t, mnt, script)
}

func wantOK(t *testing.T, what string, r result) {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Errorf("%s: exit %d, stderr %q; want success and no message", what, r.code, r.stderr)
	}
}

// TestProgramsBinaryWritesAtOffsets: memory pages are written at the
// offset the writer chose, byte for byte: no zero padding before it, no
// newline taken off.
func TestProgramsBinaryWritesAtOffsets(t *testing.T) {
	t.Parallel()
	_, relay, mnt := relayedMount(t)
	const page = tester23 + "/pages/page.1"

	r := bash(t, mnt, `printf XYZ | dd of="$M`+page+`" bs=1 seek=5 conv=notrunc status=none`)
	wantOK(t, "dd bs=1 seek=5", r)
	wantWritten(t, "dd bs=1 seek=5", relay, page, "X@5", "Y@6", "Z@7")

	relay.Reset()
	wantOK(t, "os.pwrite at 10", python(t, mnt, `
fd = os.open(M + "`+page+`", os.O_WRONLY)
assert os.pwrite(fd, b"PQ", 10) == 2
os.close(fd)`))
	wantWritten(t, "os.pwrite at 10", relay, page, "PQ@10")

	relay.Reset()
	wantOK(t, "chunks ending in a newline", python(t, mnt, `
fd = os.open(M + "`+page+`", os.O_WRONLY)
os.write(fd, b"ab\n")
os.write(fd, b"\x00\n\xff")
os.close(fd)`))
	wantWritten(t, "chunks ending in a newline", relay, page, "ab\n", "\x00\n\xff@3")

	// A page holds 32 bytes: owserver takes what fits and says so, and
	// the writer learns where the memory ends.
	r = python(t, mnt, `
fd = os.open(M + "`+page+`", os.O_WRONLY)
print(os.pwrite(fd, b"A" * 10, 28))
try:
    os.pwrite(fd, b"B", 32)
except OSError as e:
    print(e.strerror)`)
	if r.code != 0 || r.stdout != "4\nFile too large\n" {
		t.Errorf("pwrite of 10 bytes at 28, then 1 at 32: exit %d, %q %q; want 4 written, then File too large", r.code, r.stdout, r.stderr)
	}
	big := filepath.Join(t.TempDir(), "40")
	if err := os.WriteFile(big, bytes.Repeat([]byte{0xa5}, 40), 0o644); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, "cp of 40 bytes onto a 32-byte page", run(t, nil, "cp", big, filepath.Join(mnt, page)), "File too large")

	relay.Reset()
	r = bash(t, mnt, `printf '\001\002' | dd of="$M`+tester23+`/memory" bs=2 seek=60 conv=notrunc status=none`)
	wantOK(t, "dd to memory at 120", r)
	wantWritten(t, "dd to memory at 120", relay, tester23+"/memory", "\x01\x02@120")
}

// TestProgramsReadAtOffsets: dd skip= and hexdump -s read the value from
// an offset.
func TestProgramsReadAtOffsets(t *testing.T) {
	t.Parallel()
	srv, _, mnt := relayedMount(t)
	const page = tester23 + "/pages/page.0"
	want := owreadRaw(t, srv.Addr, page)
	if len(want) != 32 {
		t.Fatalf("owread %s: %d bytes, want 32", page, len(want))
	}
	got := bash(t, mnt, `dd if="$M`+page+`" bs=1 skip=5 count=3 status=none`)
	if got.code != 0 || got.stdout != want[5:8] {
		t.Errorf("dd skip=5 count=3: exit %d, %q; want %q", got.code, got.stdout, want[5:8])
	}
	temp := "/settings/timeout/volatile"
	value := strings.TrimSpace(owreadRaw(t, srv.Addr, temp)) + "\n"
	got = bash(t, mnt, `hexdump -v -e '1/1 "%c"' -s 1 "$M`+temp+`"`)
	if got.code != 0 || got.stdout != value[1:] {
		t.Errorf("hexdump -s 1: exit %d, %q; want %q", got.code, got.stdout, value[1:])
	}
}

// TestProgramsSeveralValuesOneDescriptor: each value written through one
// open descriptor lands, in order.
func TestProgramsSeveralValuesOneDescriptor(t *testing.T) {
	t.Parallel()
	srv, relay, mnt := relayedMount(t)
	tests := []struct {
		name, script, python string
		want                 []string
	}{
		{name: "a block of echos", script: `{ echo 21; echo 22; } > "$M` + volatile + `"`, want: []string{"21", "22"}},
		{name: "exec 3>", script: `exec 3>"$M` + volatile + `"; echo 41 >&3; echo 42 >&3; exec 3>&-`, want: []string{"41", "42"}},
		{name: "printf of two lines", script: `printf '51\n52\n' > "$M` + volatile + `"`, want: []string{"51", "52"}},
		{name: "Python, flush between", python: `
f = open(M + "` + volatile + `", "w")
f.write("32\n"); f.flush(); f.write("33\n")
f.close()`, want: []string{"32", "33"}},
	}
	for _, tt := range tests {
		relay.Reset()
		wantOK(t, tt.name, bashOrPython(t, mnt, tt.script, tt.python))
		wantWritten(t, tt.name, relay, volatile, tt.want...)
		if got := owreadTrimmed(t, srv.Addr, volatile); got != tt.want[len(tt.want)-1] {
			t.Errorf("%s: owserver has %q, want %q", tt.name, got, tt.want[len(tt.want)-1])
		}
	}
}

// TestProgramsTruncateAfterWrite: ftruncate to the length written (Python's
// f.truncate(), rsync --inplace) succeeds and sends nothing more.
func TestProgramsTruncateAfterWrite(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "rsync")
	_, relay, mnt := relayedMount(t)
	const temphigh = tester10 + "/temphigh"
	wantOK(t, "Python write and truncate", python(t, mnt, `
f = open(M + "`+temphigh+`", "w")
f.write("24"); f.truncate(); f.close()`))
	wantWritten(t, "Python write and truncate", relay, temphigh, "24")

	relay.Reset()
	src := filepath.Join(t.TempDir(), "v")
	if err := os.WriteFile(src, []byte("23\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantOK(t, "rsync --inplace", run(t, nil, "rsync", "--inplace", src, filepath.Join(mnt, temphigh)))
	wantWritten(t, "rsync --inplace", relay, temphigh, "23")
}

// TestProgramsValuesOwwriteAccepts: the structure line's size is an output
// width, not a bound on input: what owwrite writes, the mount writes.
func TestProgramsValuesOwwriteAccepts(t *testing.T) {
	t.Parallel()
	srv, relay, mnt := relayedMount(t)
	tests := []struct{ path, value string }{
		{tester05 + "/PIO", "yes"},
		{tester05 + "/PIO", "on"},
		{tester05 + "/PIO", "off"},
		{tester05 + "/PIO", "no"},
		{tester10 + "/temphigh", "25.000000000001"},
		{tester10 + "/temphigh", strings.Repeat("1", 300)},
		{tester29 + "/PIO.ALL", "1,0,1,0,1,0,1,0,1"},
	}
	for _, tt := range tests {
		if r := run(t, nil, "owwrite", "-s", srv.Addr, tt.path, tt.value); r.code != 0 {
			t.Fatalf("owwrite %s %s refused (exit %d): the test's premise is wrong", tt.path, tt.value, r.code)
		}
		relay.Reset()
		what := fmt.Sprintf("echo %.20s > %s", tt.value, tt.path)
		wantOK(t, what, bash(t, mnt, `echo `+tt.value+` > "$M`+tt.path+`"`))
		wantWritten(t, what, relay, tt.path, tt.value)
	}
}

// TestProgramsSimultaneousWritable: /simultaneous/temperature is rw in
// /structure, so the mount lets it be written; present is ro.
func TestProgramsSimultaneousWritable(t *testing.T) {
	t.Parallel()
	_, relay, mnt := relayedMount(t)
	for _, p := range []string{"/simultaneous/temperature", "/uncached/simultaneous/temperature"} {
		fi, err := os.Stat(filepath.Join(mnt, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want -rw-r--r--", p, fi.Mode())
		}
		relay.Reset()
		wantOK(t, "echo 1 > "+p, bash(t, mnt, `echo 1 > "$M`+p+`"`))
		wantWritten(t, "echo 1 > "+p, relay, p, "1")
	}
	if fi, err := os.Stat(filepath.Join(mnt, "simultaneous/present")); err != nil || fi.Mode().Perm() != 0o444 {
		t.Errorf("simultaneous/present: %v %v, want -r--r--r--", fi.Mode(), err)
	}
}

// TestProgramsWriteErrorsReachWriter: a value written in one write(2),
// newline or not, is refused by that write(2), so bash reports it.
func TestProgramsWriteErrorsReachWriter(t *testing.T) {
	t.Parallel()
	srv, relay, mnt := relayedMount(t)
	const temphigh = tester10 + "/temphigh"
	for _, script := range []string{
		`printf abc > "$M` + temphigh + `"`,
		`echo -n abc > "$M` + temphigh + `"`,
		`echo abc > "$M` + temphigh + `"`,
		`printf '' > "$M` + temphigh + `"; printf 'x' > "$M` + temphigh + `"`,
	} {
		wantRefused(t, script, bash(t, mnt, script), "Invalid argument")
	}
	if n := len(written(relay, temphigh)); n == 0 {
		t.Error("no write reached owserver: the refusals were not owserver's")
	}

	srv.Stop()
	for _, script := range []string{
		`printf 1 > "$M` + tester05 + `/PIO"`,
		`echo 1 > "$M` + tester05 + `/PIO"`,
	} {
		wantRefused(t, script+" (owserver down)", bash(t, mnt, script), "Input/output error")
	}
}

// TestProgramsTooLarge: a value that owserver cannot take in one message
// fails at write(2), and close(2) does not pretend otherwise.
func TestProgramsTooLarge(t *testing.T) {
	t.Parallel()
	_, relay, mnt := relayedMount(t)
	r := python(t, mnt, `
fd = os.open(M + "`+tester10+`/alias", os.O_WRONLY | os.O_TRUNC)
try:
    os.write(fd, b"x" * 100041)
    print("written")
except OSError as e:
    print(e.strerror)
try:
    os.close(fd)
    print("closed")
except OSError as e:
    print("close:", e.strerror)`)
	if r.code != 0 || r.stdout != "File too large\nclosed\n" {
		t.Errorf("write of 100,041 bytes to alias: %q %q; want File too large at write, then a quiet close", r.stdout, r.stderr)
	}
	for _, q := range relay.Requests() {
		if len(q.Payload) > 100050 {
			t.Errorf("a request of %d bytes reached owserver", len(q.Payload))
		}
	}
}

// TestProgramsPiecewiseWrites: a value written a byte at a time ends whole
// on owserver, and a refused first piece that more bytes could make valid
// does not stop the writer.
func TestProgramsPiecewiseWrites(t *testing.T) {
	t.Parallel()
	srv, relay, mnt := relayedMount(t)
	wantOK(t, "dd bs=1", bash(t, mnt, `printf '27\n' | dd of="$M`+volatile+`" bs=1 status=none`))
	if got := owreadTrimmed(t, srv.Addr, volatile); got != "27" {
		t.Errorf("after dd bs=1 of 27: owserver has %q", got)
	}
	w := written(relay, volatile)
	if len(w) == 0 || w[len(w)-1] != "27" {
		t.Errorf("dd bs=1: writes %q, want the last to be the whole value 27", w)
	}

	relay.Reset()
	const temphigh = tester10 + "/temphigh"
	wantOK(t, "dd bs=1 of -5", bash(t, mnt, `printf -- '-5\n' | dd of="$M`+temphigh+`" bs=1 status=none`))
	w = written(relay, temphigh)
	if len(w) == 0 || w[len(w)-1] != "-5" {
		t.Errorf("dd bs=1 of -5: writes %q, want the last to be -5", w)
	}

	relay.Reset()
	r := bash(t, mnt, `printf -- '-' | dd of="$M`+temphigh+`" bs=1 status=none`)
	wantRefused(t, "dd of a lone -", r, "Invalid argument")
}

// TestProgramsEmptyValue: the empty value is sent where close(2) sees
// owserver's answer, and a shell's redirection sends only the value
// written.
func TestProgramsEmptyValue(t *testing.T) {
	t.Parallel()
	srv, relay, mnt := relayedMount(t)
	const alias = tester10 + "/alias"
	wantOK(t, "echo lounge > alias", bash(t, mnt, `echo lounge > "$M`+alias+`"`))
	wantWritten(t, "echo lounge > alias", relay, alias, "lounge")
	for _, tt := range []struct{ name, script, python string }{
		{name: ": >", script: `: > "$M` + alias + `"`},
		{name: "truncate -s 0", script: `truncate -s 0 "$M` + alias + `"`},
		{name: "Python open and close", python: `open(M + "` + alias + `", "w").close()`},
	} {
		wantOK(t, "echo lounge > alias", bash(t, mnt, `echo lounge > "$M`+alias+`"`))
		relay.Reset()
		wantOK(t, tt.name, bashOrPython(t, mnt, tt.script, tt.python))
		wantWritten(t, tt.name, relay, alias, "")
		if got := owreadTrimmed(t, srv.Addr, alias); got != "" {
			t.Errorf("%s: alias is %q, want it empty", tt.name, got)
		}
	}
	// owserver keeps 256 characters of an alias: a longer one is cut, and
	// the writer hears of it.
	wantRefused(t, "echo of 300 characters > alias", bash(t, mnt, `echo `+strings.Repeat("x", 300)+` > "$M`+alias+`"`), "File too large")
	// A temperature cannot be empty: close(2) says so, nothing is sent.
	relay.Reset()
	r := python(t, mnt, `open(M + "`+tester10+`/temphigh", "w").close()`)
	wantRefused(t, "Python empties temphigh", r, "Invalid argument")
	wantWritten(t, "Python empties temphigh", relay, tester10+"/temphigh")

	srv.Stop()
	wantRefused(t, "truncate -s 0 alias (owserver down)", bash(t, mnt, `truncate -s 0 "$M`+alias+`"`), "Input/output error")
	wantRefused(t, "Python empties alias (owserver down)", python(t, mnt, `open(M + "`+alias+`", "w").close()`), "Input/output error")
}

// TestProgramsNoSpuriousErrors: a shell write that succeeds returns no
// error anywhere, not even from the close before echo writes.
func TestProgramsNoSpuriousErrors(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	addr := startTester(t)
	metrics := relFreeAddr(t)
	mnt := mountOrFatal(t, addr, "-o", "metrics_listen="+metrics)
	before := relMetric(t, metrics, "owfuse_fuse_errors_total")
	for _, v := range []string{"33", "34"} {
		wantOK(t, "echo "+v+" > temphigh", bash(t, mnt, `echo `+v+` > "$M`+tester10+`/temphigh"`))
		wantOK(t, "/bin/echo "+v+" > temphigh", bash(t, mnt, `/bin/echo `+v+` > "$M`+tester10+`/temphigh"`))
	}
	if after := relMetric(t, metrics, "owfuse_fuse_errors_total"); after != before {
		t.Errorf("the mount returned %v errors to the kernel for four successful writes", after-before)
	}
}

// TestProgramsCopiesCarryValue: programs that copy through sendfile or
// trust st_size (busybox cat, shutil, tar, rsync, a socket) get the exact
// value, right after mounting and again later.
func TestProgramsCopiesCarryValue(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "busybox", "rsync", "tar")
	srv, _, mnt := relayedMount(t)
	files := []string{tester10 + "/temperature", tester10 + "/type", tester28 + "/temperature", "/settings/timeout/volatile", tester23 + "/pages/page.0", tester10 + "/alias"}
	want := map[string]string{}
	for _, p := range files {
		v := owreadRaw(t, srv.Addr, p)
		if !strings.Contains(p, "pages") {
			v = strings.TrimLeft(v, " ")
			if v != "" {
				v += "\n"
			}
		}
		want[p] = v
	}
	check := func(what, p, got string) {
		t.Helper()
		if got != want[p] {
			t.Errorf("%s %s: got %q, want %q", what, p, got, want[p])
		}
	}
	for round := range 2 { // the first round is cold: no size known yet
		tmp := t.TempDir()
		// tar and rsync first, before anything read a value.
		r := run(t, nil, "tar", "-cf", filepath.Join(tmp, "x.tar"), "-C", mnt, tester10[1:], "settings/timeout", tester23[1:]+"/pages")
		wantOK(t, fmt.Sprintf("tar, round %d", round), r)
		if err := os.Mkdir(filepath.Join(tmp, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "tar", "-xf", filepath.Join(tmp, "x.tar"), "-C", filepath.Join(tmp, "x"))
		for _, p := range files {
			if strings.HasPrefix(p, tester28) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(tmp, "x", p))
			if err != nil {
				t.Errorf("tar round %d: %v", round, err)
				continue
			}
			check(fmt.Sprintf("tar round %d:", round), p, string(b))
		}
		wantOK(t, "rsync -a", run(t, nil, "rsync", "-a", filepath.Join(mnt, tester28)+"/", filepath.Join(tmp, "r")))
		wantOK(t, "shutil.copytree", python(t, mnt, fmt.Sprintf("shutil.copytree(%q, %q)", filepath.Join(mnt, tester28), filepath.Join(tmp, "ct"))))
		for _, dir := range []string{"r", "ct"} {
			b, err := os.ReadFile(filepath.Join(tmp, dir, "temperature"))
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("%s round %d:", dir, round), tester28+"/temperature", string(b))
		}

		for _, p := range files {
			f := filepath.Join(mnt, p)
			check("busybox cat", p, mustRun(t, "busybox", "cat", f))
			dst := filepath.Join(tmp, "copy")
			wantOK(t, "shutil.copyfile", python(t, mnt, fmt.Sprintf("shutil.copyfile(%q, %q)", f, dst)))
			b, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			check("shutil.copyfile", p, string(b))
			r := python(t, mnt, fmt.Sprintf(`
fd = os.open(%q, os.O_RDONLY)
while os.sendfile(1, fd, None, 1 << 20) > 0:
    pass`, f))
			if r.code != 0 {
				t.Errorf("os.sendfile %s: exit %d, %s", p, r.code, r.stderr)
			}
			check("os.sendfile", p, r.stdout)
			check("io.Copy to a socket", p, copyToSocket(t, f))
			if want[p] != "" { // mmap of nothing is EINVAL
				r = python(t, mnt, fmt.Sprintf(`
import mmap
with open(%q, "rb") as f:
    m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
    sys.stdout.buffer.write(m[:])`, f))
				if r.code != 0 {
					t.Errorf("private mmap of %s: exit %d, %s", p, r.code, r.stderr)
				}
				check("private mmap", p, r.stdout)
			}
		}
	}
}

// copyToSocket copies a file to a TCP connection with io.Copy, which uses
// sendfile(2), and returns what arrived.
func copyToSocket(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		var b bytes.Buffer
		io.Copy(&b, c)
		got <- b.String()
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(c, f); err != nil {
		t.Errorf("io.Copy %s to a socket: %v", path, err)
	}
	f.Close()
	c.Close()
	return <-got
}

// TestProgramsCopiesOfChangingValues: on --fake every read is a new
// value, of varying length; copies are whole values or fail loudly.
func TestProgramsCopiesOfChangingValues(t *testing.T) {
	t.Parallel()
	owtest.Require(t, "busybox", "tar", "python3")
	requireFUSE(t)
	srv := owtest.StartOwserver(t, "--fake", "10,28")
	mnt := mountOrFatal(t, srv.Addr, "-o", "volatile_ttl=0")
	f := filepath.Join(mnt, fake10, "temperature")
	whole := func(what, v string) {
		t.Helper()
		var x float64
		if n, err := fmt.Sscanf(v, "%g\n", &x); n != 1 || err != nil || !strings.HasSuffix(v, "\n") || strings.Count(v, "\n") != 1 {
			t.Errorf("%s: %q is not one whole value", what, v)
		}
	}
	for i := range 30 {
		whole(fmt.Sprintf("busybox cat #%d", i), mustRun(t, "busybox", "cat", f))
	}
	// GNU tar asks for the size again after open; busybox tar and Python's
	// tarfile copy as many bytes as lstat said before it. A cat first
	// leaves a size behind for them to trust.
	archivers := map[string][]string{
		"tar":            {"tar", "-cf", "ARCHIVE", "-C", filepath.Join(mnt, fake10), "temperature"},
		"busybox tar":    {"busybox", "tar", "-cf", "ARCHIVE", "-C", filepath.Join(mnt, fake10), "temperature"},
		"Python tarfile": {"python3", "-c", "import tarfile, sys\nwith tarfile.open(sys.argv[1], 'w') as t: t.add(sys.argv[2], 'temperature')", "ARCHIVE", f},
	}
	for name, argv := range archivers {
		loud := 0
		for i := range 15 {
			mustRun(t, "cat", f)
			tarball := filepath.Join(t.TempDir(), "x.tar")
			args := append([]string(nil), argv[1:]...)
			for j := range args {
				args[j] = strings.ReplaceAll(args[j], "ARCHIVE", tarball)
			}
			r := run(t, nil, argv[0], args...)
			if r.code != 0 {
				if r.stderr == "" {
					t.Errorf("%s #%d failed without a word", name, i)
				}
				loud++
				continue // loud: fine
			}
			whole(fmt.Sprintf("%s #%d", name, i), mustRun(t, "tar", "-xOf", tarball))
		}
		t.Logf("FIGURE %s of a changing value: %d of 15 failed loudly, the rest whole", name, loud)
	}
}

// TestProgramsPollers: a descriptor reread from offset 0 sees new values;
// the reads of one pass see one value.
func TestProgramsPollers(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	srv := owtest.StartOwserver(t, "--fake", "10,28")
	relay := owtest.NewRelay(t, srv.Addr)
	mnt := mountOrFatal(t, relay.Addr, "-o", "volatile_ttl=0")
	p := fake10 + "/temperature"
	r := python(t, mnt, `
f = open(M + "`+p+`")
seen = set()
for i in range(20):
    f.seek(0)
    seen.add(f.read())
fd = os.open(M + "`+p+`", os.O_RDONLY)
for i in range(20):
    seen.add(os.pread(fd, 100, 0).decode())
print(len(seen))`)
	if r.code != 0 || strings.TrimSpace(r.stdout) == "1" {
		t.Errorf("a poller rereading one descriptor 40 times saw %s distinct values of --fake (exit %d, %s); want more than 1", strings.TrimSpace(r.stdout), r.code, r.stderr)
	}

	relay.Reset()
	out := bash(t, mnt, `dd if="$M`+p+`" bs=1 status=none`)
	if out.code != 0 || !strings.HasSuffix(out.stdout, "\n") {
		t.Errorf("dd bs=1: exit %d, %q", out.code, out.stdout)
	}
	if n := reads(relay, p); n != 1 {
		t.Errorf("dd bs=1 of %d bytes made %d reads of owserver, want 1: one pass, one value", len(out.stdout), n)
	}
}
