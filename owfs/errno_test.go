package owfs_test

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// Every errno a FUSE call returns is counted once, xattr refusals
// included, and a refusal the caller is never told of is not: a "-" that
// owserver refused but that waits for its digits.
func TestErrnoCounts(t *testing.T) {
	m := mountFake(t)
	p := m.path(temphigh)
	// counted runs call and checks that it failed with e, counted once,
	// or with failed false that it succeeded and e was not counted.
	counted := func(what string, e syscall.Errno, failed bool, call func() error) {
		t.Helper()
		before := m.root.ErrnoCounts()[e]
		err := call()
		if failed && !errors.Is(err, e) || !failed && err != nil {
			t.Errorf("%s: got %v, want failed %v with %v", what, err, failed, e)
		}
		want := uint64(0)
		if failed {
			want = 1
		}
		if got := m.root.ErrnoCounts()[e] - before; got != want {
			t.Errorf("%s: %v counted %d times, want %d", what, e, got, want)
		}
	}
	counted("getxattr of an attribute there is not", syscall.ENODATA, true, func() error {
		_, err := syscall.Getxattr(p, "user.owfs.nosuch", make([]byte, 64))
		return err
	})
	counted("getxattr into too small a buffer", syscall.ERANGE, true, func() error {
		_, err := syscall.Getxattr(p, "user.owfs.structure", make([]byte, 2))
		return err
	})
	counted("listxattr into too small a buffer", syscall.ERANGE, true, func() error {
		_, err := syscall.Listxattr(p, make([]byte, 2))
		return err
	})

	f := m.open(t, temphigh, os.O_WRONLY)
	counted(`write "-" then "5\n"`, syscall.EINVAL, false, func() error {
		if _, err := f.WriteString("-"); err != nil {
			return err
		}
		_, err := f.WriteString("5\n")
		return err
	})
	counted(`write "abc"`, syscall.EINVAL, true, func() error {
		_, err := f.WriteString("abc")
		return err
	})
	closeOK(t, f)
	f = m.open(t, temphigh, os.O_WRONLY|os.O_TRUNC)
	counted("close of a truncated number", syscall.EINVAL, true, f.Close)
	m.released(t, temphigh)
}
