package owfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
)

func TestMayContinue(t *testing.T) {
	prop := func(typ byte) *propNode {
		return &propNode{info: &propInfo{prop: cache.Property{Known: typ != 0, Structure: owclient.Structure{Type: typ}}}}
	}
	tests := []struct {
		typ   byte
		value string
		want  bool
	}{
		{'t', "-", true}, {'t', "+", true}, {'t', " -.", true}, {'t', "", true},
		{'t', "abc", false}, {'t', "-x", false}, {'t', "2", false}, {'t', "-\x00", false},
		{'i', ".", true}, {'u', "12", false}, {0, "-", true}, {0, "z", false},
		{'y', "o", true}, {'y', "Of", true}, {'y', "ye", true}, {'y', "tru", true},
		{'y', "off", false}, {'y', "maybe", false}, {'y', "x", false},
		{'d', "Sat Nov", true},
		{'a', "", false}, {'l', "lou", false}, {'b', "-", false},
	}
	for _, tt := range tests {
		if got := prop(tt.typ).mayContinue([]byte(tt.value)); got != tt.want {
			t.Errorf("type %q, %q: mayContinue = %v, want %v", tt.typ, tt.value, got, tt.want)
		}
	}
}

func inode(t *testing.T, f *os.File) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// holdsOpen sees this process's descriptors, and stops seeing one once it
// is closed.
func TestHoldsOpen(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	ino := inode(t, f)
	pid := uint32(os.Getpid())
	if open, known := holdsOpen(pid, ino); !open || !known {
		t.Errorf("with the file open: holdsOpen = %v, %v; want true, true", open, known)
	}
	f.Close()
	if open, known := holdsOpen(pid, ino); open || !known {
		t.Errorf("after close: holdsOpen = %v, %v; want false, true", open, known)
	}
	if _, known := holdsOpen(0, ino); known {
		t.Error("pid 0: holdsOpen claims to know")
	}
}

func TestSameProcess(t *testing.T) {
	self := uint32(os.Getpid())
	tid := uint32(syscall.Gettid())
	if !sameProcess(self, tid) {
		t.Errorf("this process %d and its thread %d: not the same process", self, tid)
	}
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if sameProcess(self, uint32(cmd.Process.Pid)) {
		t.Error("a child is the same process as its parent")
	}
	if sameProcess(0, 0) {
		t.Error("unknown callers are the same process")
	}
}

func TestKernelSafe(t *testing.T) {
	for in, want := range map[syscall.Errno]syscall.Errno{
		syscall.ENOENT: syscall.ENOENT, syscall.EINVAL: syscall.EINVAL, 511: 511,
		512: syscall.EIO, 1000: syscall.EIO, 0: syscall.EIO, syscall.ENOSYS: syscall.EIO,
	} {
		if got := kernelSafe(in); got != want {
			t.Errorf("kernelSafe(%d) = %d, want %d", in, got, want)
		}
	}
}
