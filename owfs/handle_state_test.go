package owfs_test

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// The tests below drive an in-process mount over a fakeBackend with
// syscalls and check, after each one, exactly which messages reached the
// backend: the rules of owfs/doc.go and handle.go, seen from a writer's
// side.

// writeString writes s to f and fails the test if it does not all go.
func writeString(t *testing.T, f *os.File, s string) {
	t.Helper()
	if n, err := f.WriteString(s); err != nil || n != len(s) {
		t.Fatalf("write %q: %d, %v", s, n, err)
	}
}

// A write that ends a line sends the line, without its newline or CRLF,
// before write(2) returns; each line of a write is a value of its own;
// close has nothing left to send.
func TestWriteCommitsEachLineBeforeReturning(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_WRONLY)
	m.sent(t, "open")
	writeString(t, f, "30\n")
	m.sent(t, `write "30\n"`, write(temphigh, "30", 0))
	writeString(t, f, "31\r\n")
	m.sent(t, `write "31\r\n"`, write(temphigh, "31", 0))
	writeString(t, f, "32\n33\n")
	m.sent(t, `write "32\n33\n"`, write(temphigh, "32", 0), write(temphigh, "33", 0))
	m.closeAndCheck(t, f, temphigh)
	if v := m.b.value(temphigh); v != "33" {
		t.Errorf("owserver holds %q, want 33", v)
	}
}

// Bytes without a newline go out as the value so far, and each write
// that continues them sends the longer value (dd bs=1); the newline that
// ends them adds nothing, and neither does close.
func TestPartialValueGrowsAndItsNewlineSendsNothing(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_WRONLY)
	writeString(t, f, "2")
	m.sent(t, `write "2"`, write(temphigh, "2", 0))
	writeString(t, f, "7")
	m.sent(t, `write "7"`, write(temphigh, "27", 0))
	writeString(t, f, "\n")
	m.sent(t, `write "\n"`)
	m.closeAndCheck(t, f, temphigh)
}

// A write at another offset than where the last one ended starts a new
// text value: nothing is padded, nothing joined.
func TestTextWriteElsewhereStartsANewValue(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_WRONLY)
	if _, err := f.WriteAt([]byte("25"), 0); err != nil {
		t.Fatal(err)
	}
	m.sent(t, "pwrite 25 at 0", write(temphigh, "25", 0))
	if _, err := f.WriteAt([]byte("7"), 10); err != nil {
		t.Fatal(err)
	}
	m.sent(t, "pwrite 7 at 10", write(temphigh, "7", 0))
	m.closeAndCheck(t, f, temphigh)
}

// A start of a number that owserver refuses but more bytes may complete
// ("-" of "-5") does not fail the write: it waits for them. If they come,
// the whole value goes; if not, close sends it again and reports
// owserver's refusal (printf - > temphigh).
func TestRefusedStartWaitsForTheRest(t *testing.T) {
	t.Run("completed", func(t *testing.T) {
		m := mountFake(t)
		f := m.open(t, temphigh, os.O_WRONLY)
		writeString(t, f, "-")
		m.sent(t, `write "-"`, write(temphigh, "-", 0))
		writeString(t, f, "5\n")
		m.sent(t, `write "5\n"`, write(temphigh, "-5", 0))
		m.closeAndCheck(t, f, temphigh)
	})
	t.Run("never completed", func(t *testing.T) {
		m := mountFake(t)
		f := m.open(t, temphigh, os.O_WRONLY)
		writeString(t, f, "-")
		m.sent(t, `write "-"`, write(temphigh, "-", 0))
		if err := f.Close(); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("close after a lone -: got %v, want EINVAL", err)
		}
		m.released(t, temphigh)
		m.sent(t, "close", write(temphigh, "-", 0))
	})
}

// A value owserver refuses fails the write(2) that sent it, newline or
// not (printf abc > temphigh), and close has nothing more to say; a
// server that cannot be reached fails it with EIO.
func TestRefusalFailsTheWrite(t *testing.T) {
	m := mountFake(t)
	for _, s := range []string{"abc", "abc\n"} {
		f := m.open(t, temphigh, os.O_WRONLY)
		if _, err := f.WriteString(s); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("write %q: got %v, want EINVAL", s, err)
		}
		m.sent(t, "write "+s, write(temphigh, "abc", 0))
		m.closeAndCheck(t, f, temphigh)
	}
	m.b.setDown(true)
	f := m.open(t, temphigh, os.O_WRONLY)
	if _, err := f.WriteString("25\n"); !errors.Is(err, syscall.EIO) {
		t.Errorf("write with owserver down: got %v, want EIO", err)
	}
	m.sent(t, "write with owserver down", write(temphigh, "25", 0))
	m.closeAndCheck(t, f, temphigh)
}

// open(O_TRUNC) sends nothing: the write that follows is the value
// (echo 25 > temphigh). The kernel truncates with a SETATTR that names
// no handle; a number has no empty value, so sending one would fail the
// open.
func TestTruncatingOpenThenWrite(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_WRONLY|os.O_TRUNC)
	m.sent(t, "open(O_TRUNC)")
	writeString(t, f, "40\n")
	m.sent(t, `write "40\n"`, write(temphigh, "40", 0))
	m.closeAndCheck(t, f, temphigh)
}

// A truncate without a write sends the empty value once, at the last
// close of the opener's descriptors: a close while the opener holds a
// duplicate (a shell's redirection moves the descriptor, then closes the
// first) sends nothing. A number cannot be empty: its close fails with
// EINVAL without sending anything.
func TestTruncateWithoutWriteCommitsOnceAtLastClose(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, alias, os.O_WRONLY|os.O_TRUNC)
	d := dup(t, f)
	closeOK(t, f)
	m.sent(t, "closing the first of two descriptors")
	m.closeAndCheck(t, d, alias, write(alias, "", 0))

	f = m.open(t, temphigh, os.O_WRONLY|os.O_TRUNC)
	if err := f.Close(); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("close of a truncated number: got %v, want EINVAL", err)
	}
	m.released(t, temphigh)
	m.sent(t, "close of a truncated number")
}

// The shell's echo, in-process: open(O_TRUNC), dup to stdout, close the
// first descriptor, write, close. One value reaches owserver.
func TestTruncateDupCloseWrite(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, alias, os.O_WRONLY|os.O_TRUNC)
	d := dup(t, f)
	closeOK(t, f)
	writeString(t, d, "kitchen\n")
	m.sent(t, `write "kitchen\n"`, write(alias, "kitchen", 0))
	m.closeAndCheck(t, d, alias)
}

// A child that closes the descriptor it inherited (at exec, close-on-
// exec) is not the opener: its close does not send the truncated value,
// which the opener is about to write.
func TestChildClosingAnInheritedDescriptorSendsNothing(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, alias, os.O_WRONLY|os.O_TRUNC)
	if out, err := exec.Command("true").CombinedOutput(); err != nil {
		t.Fatalf("true: %v: %s", err, out)
	}
	m.sent(t, "a child's exec closed its copy")
	writeString(t, f, "hall\n")
	m.sent(t, `write "hall\n"`, write(alias, "hall", 0))
	m.closeAndCheck(t, f, alias)
}

// A truncated handle whose close found another descriptor of the file
// open in the process (here a reader's) leaves the empty value to
// RELEASE, which the kernel sends when the handle's last reference goes.
func TestTruncateLeftToRelease(t *testing.T) {
	m := mountFake(t)
	r := m.open(t, alias, os.O_RDONLY)
	m.sent(t, "open for reading", read(alias))
	f := m.open(t, alias, os.O_WRONLY|os.O_TRUNC)
	m.closeAndCheck(t, f, alias, write(alias, "", 0))
	closeOK(t, r)
	m.sent(t, "the reader's close")
}

// ftruncate(0) empties what the handle writes and sends nothing (a
// number has no empty value); the next write is the value. A truncate to
// another length changes nothing.
func TestFtruncateThenWrite(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_WRONLY)
	writeString(t, f, "2")
	m.sent(t, `write "2"`, write(temphigh, "2", 0))
	if err := f.Truncate(0); err != nil {
		t.Fatalf("ftruncate(0): %v", err)
	}
	if err := f.Truncate(5); err != nil {
		t.Fatalf("ftruncate(5): %v", err)
	}
	m.sent(t, "ftruncate")
	if _, err := f.WriteAt([]byte("35\n"), 0); err != nil {
		t.Fatal(err)
	}
	m.sent(t, `pwrite "35\n" at 0`, write(temphigh, "35", 0))
	m.closeAndCheck(t, f, temphigh)
}

// fsync sends what is due, the empty value of a truncate included, and
// close then has nothing left (vim: truncate, write, fsync, close).
func TestFsyncCommits(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, alias, os.O_WRONLY)
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	m.sent(t, "ftruncate(0)")
	if err := f.Sync(); err != nil {
		t.Fatalf("fsync: %v", err)
	}
	m.sent(t, "fsync", write(alias, "", 0))
	m.closeAndCheck(t, f, alias)
}

// pread reads up to n bytes at off with pread(2).
func pread(t *testing.T, f *os.File, n int, off int64) string {
	t.Helper()
	b := make([]byte, n)
	got, err := syscall.Pread(int(f.Fd()), b, off)
	if err != nil {
		t.Fatalf("pread %d at %d: %v", n, off, err)
	}
	return string(b[:got])
}

// A reader's open reads the value once: every read of the handle, at any
// offset and in any size (dd bs=1), is cut from that one value, whatever
// owserver holds meanwhile. A read at 0 after the handle was read starts
// over with a fresh value (a poller rereading one descriptor); so does
// another open.
func TestReadOncePerOpenAndRereadAtZero(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temperature, os.O_RDONLY)
	m.sent(t, "open", read(temperature))
	m.b.set(temperature, "22.0")
	var got []byte
	b := make([]byte, 1)
	for {
		n, err := f.Read(b)
		if n == 0 || err != nil {
			break
		}
		got = append(got, b[:n]...)
	}
	if string(got) != "21.5\n" {
		t.Errorf("read byte by byte: got %q, want the value at open, 21.5\\n", got)
	}
	if s := pread(t, f, 2, 3); s != "5\n" {
		t.Errorf("pread 2 at 3: got %q, want 5\\n", s)
	}
	if s := pread(t, f, 10, 7); s != "" {
		t.Errorf("pread past the end: got %q, want nothing", s)
	}
	m.sent(t, "reads of one pass")
	if s := pread(t, f, 100, 0); s != "22.0\n" {
		t.Errorf("reread at 0: got %q, want the new value 22.0\\n", s)
	}
	m.sent(t, "reread at 0", read(temperature))
	closeOK(t, f)

	m.b.set(temperature, "23.5")
	f = m.open(t, temperature, os.O_RDONLY)
	if s := pread(t, f, 100, 0); s != "23.5\n" {
		t.Errorf("after reopening: got %q, want 23.5\\n", s)
	}
	m.sent(t, "reopen and read", read(temperature))
	closeOK(t, f)
}

// A read-write handle reads nothing at open, and after it wrote, a read
// anywhere sees what owserver made of the write, not the value it had.
func TestReadWriteHandleRereadsAfterAWrite(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_RDWR)
	m.sent(t, "open")
	if s := pread(t, f, 100, 0); s != "25\n" {
		t.Errorf("read: got %q, want 25\\n", s)
	}
	m.sent(t, "read", read(temphigh))
	if _, err := f.WriteAt([]byte("30\n"), 0); err != nil {
		t.Fatal(err)
	}
	m.sent(t, "write", write(temphigh, "30", 0))
	if s := pread(t, f, 100, 1); s != "0\n" {
		t.Errorf("read at 1 after the write: got %q, want 0\\n (of 30)", s)
	}
	m.sent(t, "read after the write", read(temphigh))
	closeOK(t, f)
}

// Binary writes go to owserver at their offset, byte for byte: nothing
// is zero-filled, buffered or joined, and truncating sends nothing (an
// EEPROM cannot be emptied). A write past the memory's end gets a short
// count, then EFBIG. Reads get the bytes, without a newline.
func TestBinaryWritesGoAtTheirOffset(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, memory, os.O_RDWR|os.O_TRUNC)
	m.sent(t, "open(O_TRUNC)")
	if err := f.Truncate(0); err != nil {
		t.Fatalf("ftruncate(0): %v", err)
	}
	m.sent(t, "ftruncate(0)")
	if _, err := f.WriteAt([]byte("AB"), 5); err != nil {
		t.Fatal(err)
	}
	m.sent(t, "pwrite AB at 5", write(memory, "AB", 5))
	if _, err := f.WriteAt([]byte("C\nD"), 9); err != nil {
		t.Fatal(err)
	}
	m.sent(t, "pwrite C\\nD at 9", write(memory, "C\nD", 9))
	n, err := syscall.Pwrite(int(f.Fd()), []byte("wxyz"), memorySize-2)
	if n != 2 || err != nil {
		t.Errorf("pwrite of 4 bytes 2 before the end: %d, %v; want 2, nil", n, err)
	}
	m.sent(t, "pwrite across the end", write(memory, "wxyz", memorySize-2))
	if _, err := syscall.Pwrite(int(f.Fd()), []byte("z"), memorySize); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("pwrite at the end: got %v, want EFBIG", err)
	}
	m.sent(t, "pwrite at the end", write(memory, "z", memorySize))
	if s := pread(t, f, 6, 4); s != "\x00AB\x00\x00C" {
		t.Errorf("pread 6 at 4: got %q", s)
	}
	m.sent(t, "pread", read(memory))
	m.closeAndCheck(t, f, memory)
	if v := m.b.value(memory); v[62:] != "wx" {
		t.Errorf("the memory ends in %q, want wx", v[62:])
	}
	f = m.open(t, memory, os.O_WRONLY|os.O_TRUNC)
	m.closeAndCheck(t, f, memory)
}

// The echo of sh itself, in a process of its own, whose redirection
// opens with O_TRUNC, moves the descriptor to stdout and closes the
// first: one value, or a failed command for a value owserver refuses.
func TestShellEcho(t *testing.T) {
	m := mountFake(t)
	if out, err := exec.Command("sh", "-c", "echo kitchen > "+m.path(alias)).CombinedOutput(); err != nil {
		t.Fatalf("echo kitchen: %v: %s", err, out)
	}
	m.released(t, alias)
	m.sent(t, "echo kitchen", write(alias, "kitchen", 0))
	if out, err := exec.Command("sh", "-c", "echo abc > "+m.path(temphigh)).CombinedOutput(); err == nil {
		t.Errorf("echo abc > temphigh succeeded: %s", out)
	}
	m.released(t, temphigh)
	m.sent(t, "echo abc", write(temphigh, "abc", 0))
}
