package owfs_test

import (
	"errors"
	"fmt"
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

// writes writes s to f and checks the messages that reached the backend
// before write(2) returned.
func (m *fakeMount) writes(t *testing.T, f *os.File, s string, want ...string) {
	t.Helper()
	writeString(t, f, s)
	m.sent(t, fmt.Sprintf("write %q", s), want...)
}

// pwrites is writes with pwrite(2) at off.
func (m *fakeMount) pwrites(t *testing.T, f *os.File, s string, off int64, want ...string) {
	t.Helper()
	if n, err := f.WriteAt([]byte(s), off); err != nil || n != len(s) {
		t.Fatalf("pwrite %q at %d: %d, %v", s, off, n, err)
	}
	m.sent(t, fmt.Sprintf("pwrite %q at %d", s, off), want...)
}

// A write that ends a line sends the line, without its newline or CRLF,
// before write(2) returns; each line of a write is a value of its own;
// close has nothing left to send.
func TestWriteCommitsEachLineBeforeReturning(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_WRONLY)
	m.sent(t, "open")
	m.writes(t, f, "30\n", write(temphigh, "30", 0))
	m.writes(t, f, "31\r\n", write(temphigh, "31", 0))
	m.writes(t, f, "32\n33\n", write(temphigh, "32", 0), write(temphigh, "33", 0))
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
	m.writes(t, f, "2", write(temphigh, "2", 0))
	m.writes(t, f, "7", write(temphigh, "27", 0))
	m.writes(t, f, "\n")
	m.closeAndCheck(t, f, temphigh)
}

// A write at another offset than where the last one ended starts a new
// text value: nothing is padded, nothing joined.
func TestTextWriteElsewhereStartsANewValue(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_WRONLY)
	m.pwrites(t, f, "25", 0, write(temphigh, "25", 0))
	m.pwrites(t, f, "7", 10, write(temphigh, "7", 0))
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
		m.writes(t, f, "-", write(temphigh, "-", 0))
		m.writes(t, f, "5\n", write(temphigh, "-5", 0))
		m.closeAndCheck(t, f, temphigh)
	})
	t.Run("never completed", func(t *testing.T) {
		m := mountFake(t)
		f := m.open(t, temphigh, os.O_WRONLY)
		m.writes(t, f, "-", write(temphigh, "-", 0))
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

// open(O_TRUNC) sends nothing, and neither does a close before the
// write that follows if it is a duplicate's (a shell's redirection moves
// the descriptor to stdout, then closes the first) or a child's (its
// close-on-exec copy, at exec): the write is the value, sent once. The
// kernel truncates with a SETATTR that names no handle; sending the
// empty value then would fail a number's open.
func TestTruncateThenWriteSendsOneValue(t *testing.T) {
	for _, tt := range []struct {
		name string
		path string
		// between does what comes between open and write, and returns
		// the descriptor to write to.
		between func(t *testing.T, f *os.File) *os.File
	}{
		{"open and write", temphigh, func(t *testing.T, f *os.File) *os.File { return f }},
		{"a duplicate closed first", alias, func(t *testing.T, f *os.File) *os.File {
			d := dup(t, f)
			closeOK(t, f)
			return d
		}},
		{"a child closed its copy", alias, func(t *testing.T, f *os.File) *os.File {
			if out, err := exec.Command("true").CombinedOutput(); err != nil {
				t.Fatalf("true: %v: %s", err, out)
			}
			return f
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := mountFake(t)
			w := tt.between(t, m.open(t, tt.path, os.O_WRONLY|os.O_TRUNC))
			m.sent(t, "open(O_TRUNC), "+tt.name)
			m.writes(t, w, "40\n", write(tt.path, "40", 0))
			m.closeAndCheck(t, w, tt.path)
		})
	}
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
	m.writes(t, f, "2", write(temphigh, "2", 0))
	if err := f.Truncate(0); err != nil {
		t.Fatalf("ftruncate(0): %v", err)
	}
	if err := f.Truncate(5); err != nil {
		t.Fatalf("ftruncate(5): %v", err)
	}
	m.sent(t, "ftruncate")
	m.pwrites(t, f, "35\n", 0, write(temphigh, "35", 0))
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

// wantPread checks what pread(2) of n bytes at off returns.
func wantPread(t *testing.T, f *os.File, n int, off int64, want string) {
	t.Helper()
	b := make([]byte, n)
	got, err := syscall.Pread(int(f.Fd()), b, off)
	if err != nil || string(b[:got]) != want {
		t.Errorf("pread %d at %d: got %q, %v; want %q", n, off, b[:max(got, 0)], err, want)
	}
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
	wantPread(t, f, 2, 3, "5\n")
	wantPread(t, f, 10, 7, "")
	m.sent(t, "reads of one pass")
	wantPread(t, f, 100, 0, "22.0\n")
	m.sent(t, "reread at 0", read(temperature))
	closeOK(t, f)

	m.b.set(temperature, "23.5")
	f = m.open(t, temperature, os.O_RDONLY)
	wantPread(t, f, 100, 0, "23.5\n")
	m.sent(t, "reopen and read", read(temperature))
	closeOK(t, f)
}

// A read-write handle reads nothing at open, and after it wrote, a read
// anywhere sees what owserver made of the write, not the value it had.
func TestReadWriteHandleRereadsAfterAWrite(t *testing.T) {
	m := mountFake(t)
	f := m.open(t, temphigh, os.O_RDWR)
	m.sent(t, "open")
	wantPread(t, f, 100, 0, "25\n")
	m.sent(t, "read", read(temphigh))
	m.pwrites(t, f, "30\n", 0, write(temphigh, "30", 0))
	wantPread(t, f, 100, 1, "0\n")
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
	m.pwrites(t, f, "AB", 5, write(memory, "AB", 5))
	m.pwrites(t, f, "C\nD", 9, write(memory, "C\nD", 9))
	n, err := syscall.Pwrite(int(f.Fd()), []byte("wxyz"), memorySize-2)
	if n != 2 || err != nil {
		t.Errorf("pwrite of 4 bytes 2 before the end: %d, %v; want 2, nil", n, err)
	}
	m.sent(t, "pwrite across the end", write(memory, "wxyz", memorySize-2))
	if _, err := syscall.Pwrite(int(f.Fd()), []byte("z"), memorySize); !errors.Is(err, syscall.EFBIG) {
		t.Errorf("pwrite at the end: got %v, want EFBIG", err)
	}
	m.sent(t, "pwrite at the end", write(memory, "z", memorySize))
	wantPread(t, f, 6, 4, "\x00AB\x00\x00C")
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
