package owfs_test

import (
	"errors"
	"maps"
	"os"
	"syscall"
	"testing"
)

// Every errno a FUSE call returns is counted once, xattr refusals
// included; a refusal the caller is never told of is not (a "-" that
// owserver refused but that waits for its digits), and neither are the
// probes whose usual answer is "none" (the kernel asks for
// security.capability before every write): a successful write counts
// nothing at all.
func TestErrnoCounts(t *testing.T) {
	m := mountFake(t)
	p := m.path(temphigh)
	// check runs call, wants wantErr from it (nil: success), and wants
	// e counted n more times.
	check := func(what string, wantErr error, e syscall.Errno, n uint64, call func() error) {
		t.Helper()
		before := m.root.ErrnoCounts()[e]
		if err := call(); !errors.Is(err, wantErr) {
			t.Errorf("%s: got %v, want %v", what, err, wantErr)
		}
		if got := m.root.ErrnoCounts()[e] - before; got != n {
			t.Errorf("%s: %v counted %d times, want %d", what, e, got, n)
		}
	}
	getxattr := func(name string, size int) func() error {
		return func() error {
			_, err := syscall.Getxattr(p, name, make([]byte, size))
			return err
		}
	}
	check("getxattr of an attribute there is not", syscall.ENODATA, syscall.ENODATA, 1, getxattr("user.owfs.nosuch", 64))
	check("the kernel's probe before a write", syscall.ENODATA, syscall.ENODATA, 0, getxattr("security.capability", 64))
	check("getxattr into too small a buffer", syscall.ERANGE, syscall.ERANGE, 1, getxattr("user.owfs.structure", 2))
	check("listxattr into too small a buffer", syscall.ERANGE, syscall.ERANGE, 1, func() error {
		_, err := syscall.Listxattr(p, make([]byte, 2))
		return err
	})

	f := m.open(t, temphigh, os.O_WRONLY)
	before := m.root.ErrnoCounts()
	writeString(t, f, "35\n")
	if after := m.root.ErrnoCounts(); !maps.Equal(after, before) {
		t.Errorf("a successful write: errno counts went from %v to %v", before, after)
	}
	check(`write "-" then "5\n"`, nil, syscall.EINVAL, 0, func() error {
		if _, err := f.WriteString("-"); err != nil {
			return err
		}
		_, err := f.WriteString("5\n")
		return err
	})
	check(`write "abc"`, syscall.EINVAL, syscall.EINVAL, 1, func() error {
		_, err := f.WriteString("abc")
		return err
	})
	closeOK(t, f)
	f = m.open(t, temphigh, os.O_WRONLY|os.O_TRUNC)
	check("close of a truncated number", syscall.EINVAL, syscall.EINVAL, 1, f.Close)
	m.released(t, temphigh)
}
