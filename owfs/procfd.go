package owfs

import (
	"bytes"
	"os"
	"slices"
	"strconv"
)

// holdsOpen reports whether process pid has a descriptor open on the file
// with inode number ino in any filesystem, and whether it could tell (the
// process may be gone, or in another PID namespace). FUSE says which
// descriptor-less close (FLUSH) comes from which thread, but not whether
// the file stays open elsewhere in that process; /proc/PID/fdinfo does,
// and reading it calls nothing in this filesystem.
func holdsOpen(pid uint32, ino uint64) (open, known bool) {
	if pid == 0 {
		return false, false
	}
	dir := "/proc/" + strconv.FormatUint(uint64(pid), 10) + "/fdinfo/"
	d, err := os.Open(dir)
	if err != nil {
		return false, false
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return false, false
	}
	want := []byte("\nino:\t" + strconv.FormatUint(ino, 10) + "\n")
	open = slices.ContainsFunc(names, func(n string) bool {
		b, err := os.ReadFile(dir + n)
		return err == nil && bytes.Contains(b, want)
	})
	return open, true
}

// sameProcess reports whether threads a and b belong to one process. FUSE
// names the calling thread; a forked child that closes the descriptors it
// inherited (at exec, for close-on-exec ones) is another process, and its
// closes say nothing of the opener's intent.
func sameProcess(a, b uint32) bool {
	if a == b {
		return a != 0
	}
	ta, tb := tgid(a), tgid(b)
	return ta != 0 && ta == tb
}

// tgid returns the process of thread tid, 0 if unknown.
func tgid(tid uint32) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(tid), 10) + "/status")
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("\nTgid:\t"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, err := strconv.ParseUint(string(line), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
