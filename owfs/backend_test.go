package owfs_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
	"github.com/owfuse/owfuse/owfs"
)

// The fake bus: a thermometer and an EEPROM.
const (
	temphigh    = "/10.67C6697351FF/temphigh"    // a number, read-write
	temperature = "/10.67C6697351FF/temperature" // a number, read-only
	alias       = "/10.67C6697351FF/alias"       // text that may be empty
	memory      = "/23.0123456789AB/memory"      // binary, memorySize bytes
	memorySize  = 64
)

// fakeBackend is an owfs.Backend over the fake bus, held in memory. It
// records every read and write that reaches it, in order, with the bytes
// and offset of each write, so that a test can say which messages a
// sequence of syscalls sent to owserver, and when.
type fakeBackend struct {
	mu    sync.Mutex // guards following
	files map[string]*fakeFile
	log   []string // reads and writes not yet taken
	down  bool     // every call fails as if owserver were unreachable
}

type fakeFile struct {
	prop  cache.Property
	value []byte
}

var _ owfs.Backend = (*fakeBackend)(nil)

func newFakeBackend() *fakeBackend {
	file := func(line string, class owclient.ChangeClass, value string) *fakeFile {
		st, err := owclient.ParseStructure(line)
		if err != nil {
			panic(err)
		}
		return &fakeFile{prop: cache.Property{Structure: st, Known: true, Class: class, InDevice: true}, value: []byte(value)}
	}
	return &fakeBackend{files: map[string]*fakeFile{
		temphigh:    file("t,000000,000001,rw,000012,s,", owclient.Stable, "25"),
		temperature: file("t,000000,000001,ro,000012,v,", owclient.Volatile, "21.5"),
		alias:       file("l,000000,000001,rw,000256,s,", owclient.Stable, ""),
		memory:      file("b,000000,000001,rw,000064,s,", owclient.Stable, strings.Repeat("\x00", memorySize)),
	}}
}

// set changes a value behind the mount's back, as another client would.
func (b *fakeBackend) set(path, value string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.files[path].value = []byte(value)
}

func (b *fakeBackend) value(path string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.files[path].value)
}

func (b *fakeBackend) setDown(down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = down
}

// take returns the messages recorded since the last take.
func (b *fakeBackend) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.log
	b.log = nil
	return l
}

// read and write are how the log spells a message.
func read(path string) string { return "read " + path }
func write(path, data string, offset int) string {
	return fmt.Sprintf("write %s %q @%d", path, data, offset)
}

// failure is owclient's error for a call owserver never answered.
func (b *fakeBackend) failure(op, path string) error {
	if !b.down {
		return nil
	}
	return &owclient.OpError{Op: op, Path: path, Addr: b.Addr(), Err: &owclient.ConnError{Err: io.EOF}}
}

func (b *fakeBackend) Dir(ctx context.Context, path string) ([]cache.Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.failure("dir", path); err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	var es []cache.Entry
	for p := range b.files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		name, _, isDir := strings.Cut(rest, "/")
		if e := (cache.Entry{Name: name, IsDir: isDir}); !slices.Contains(es, e) {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b cache.Entry) int { return strings.Compare(a.Name, b.Name) })
	return es, nil
}

func (b *fakeBackend) Present(ctx context.Context, path string) (bool, error) {
	return false, nil
}

func (b *fakeBackend) Property(ctx context.Context, path string) (cache.Property, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.files[path]
	if !ok {
		return cache.Property{}, &owclient.ServerError{Op: "read", Path: path, Code: 1}
	}
	return f.prop, nil
}

func (b *fakeBackend) Read(ctx context.Context, path string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, read(path))
	if err := b.failure("read", path); err != nil {
		return nil, err
	}
	return slices.Clone(b.files[path].value), nil
}

// WriteAt takes a number only if it parses, as owserver does, and as much
// of binary data as fits in the memory, saying how much.
func (b *fakeBackend) WriteAt(ctx context.Context, path string, data []byte, offset int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, write(path, string(data), offset))
	if err := b.failure("write", path); err != nil {
		return err
	}
	f := b.files[path]
	switch f.prop.Structure.Type {
	case 'b':
		n := copy(f.value[min(offset, len(f.value)):], data)
		if n < len(data) {
			return &owclient.PartialWriteError{Path: path, Written: n, Sent: len(data)}
		}
	case 't':
		if _, err := strconv.ParseFloat(strings.TrimSpace(string(data)), 64); err != nil {
			return &owclient.ServerError{Op: "write", Path: path, Code: int32(syscall.EINVAL)}
		}
		f.value = slices.Clone(data)
	default:
		f.value = slices.Clone(data)
	}
	return nil
}

func (b *fakeBackend) Cached(path string) ([]byte, time.Duration, bool) { return nil, 0, false }
func (b *fakeBackend) Lifetimes() cache.Lifetimes                       { return cache.DefaultLifetimes() }
func (b *fakeBackend) Addr() string                                     { return "fake" }

// fakeMount is the filesystem over a fakeBackend, mounted in this
// process.
type fakeMount struct {
	dir  string
	b    *fakeBackend
	root *owfs.Root
}

// mountFake mounts the filesystem over a fresh fakeBackend in a
// temporary directory, with the fs.Options of a real mount
// (Root.FSOptions: the kernel timeouts, the root's inode, MaxWrite, no
// splice, modes as given; direct mount(2) as root), and unmounts it
// when the test ends. It needs /dev/fuse: without it the test is skipped,
// or fails under CI=true.
func mountFake(t *testing.T) *fakeMount {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil && owtest.InCI() {
		t.Fatalf("in-process mount: %v (CI=true: a missing /dev/fuse fails the run)", err)
	} else if err != nil {
		t.Skipf("in-process mount: %v", err)
	}
	if os.Geteuid() != 0 {
		owtest.Require(t, "fusermount3") // what go-fuse mounts with then
	}
	b := newFakeBackend()
	root := owfs.New(b, owfs.Options{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Newline: true})
	m := &fakeMount{dir: t.TempDir(), b: b, root: root}
	srv, err := fs.Mount(m.dir, root, root.FSOptions(fuse.MountOptions{
		FsName: "owfuse-test", Name: "owfuse", Debug: testing.Verbose(), DirectMount: os.Geteuid() == 0,
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			// Never leave a mount behind, even when a failed test left a
			// file open.
			t.Errorf("unmount %s: %v; detaching it", m.dir, err)
			syscall.Unmount(m.dir, syscall.MNT_DETACH)
		}
	})
	return m
}

// path is where an owserver path is in the mount.
func (m *fakeMount) path(p string) string { return filepath.Join(m.dir, p) }

// open opens an owserver path in the mount; the test's end closes the
// file if the test did not.
func (m *fakeMount) open(t *testing.T, p string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(m.path(p), flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// dup duplicates f's descriptor, as a shell's redirection does, into a
// file of its own.
func dup(t *testing.T, f *os.File) *os.File {
	t.Helper()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	d := os.NewFile(uintptr(fd), f.Name()+" (dup)")
	t.Cleanup(func() { d.Close() })
	return d
}

// sent checks the messages that reached the backend since the last
// check, after what the test names.
func (m *fakeMount) sent(t *testing.T, after string, want ...string) {
	t.Helper()
	if got := m.b.take(); !slices.Equal(got, want) {
		t.Errorf("after %s: backend got %q, want %q", after, got, want)
	}
}

// released waits until the kernel has released every write handle of
// the file at p: RELEASE comes after close(2) has returned, and may send
// a value.
func (m *fakeMount) released(t *testing.T, p string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); m.root.Writers(p) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d write handles still open 10 s after the last close", p, m.root.Writers(p))
		}
		time.Sleep(time.Millisecond) // polling: nothing tells the test when RELEASE is done
	}
}

// closeAndCheck closes f, the last descriptor of a write handle of the
// file at p, waits for its RELEASE and checks what reached the backend
// meanwhile.
func (m *fakeMount) closeAndCheck(t *testing.T, f *os.File, p string, want ...string) {
	t.Helper()
	closeOK(t, f)
	m.released(t, p)
	m.sent(t, "the last close", want...)
}

func closeOK(t *testing.T, f *os.File) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}
