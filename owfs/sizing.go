package owfs

import (
	"time"

	"github.com/hanwen/go-fuse/v2/fs"

	"github.com/owfuse/owfuse/owclient"
)

// sizeScheme is how files report their size. The mount uses sizeGuess; the
// others are the candidates it was chosen over, kept so that a test can
// measure each against the programs people run (TestSizeSchemes).
type sizeScheme int

const (
	sizeGuess      sizeScheme = iota // best guess, corrected at open (see size)
	sizeZero                         // 0, as /proc: reads go to EOF with direct I/O
	sizeWidth                        // the structure line's width, a page without one
	sizeCachedOnly                   // the cached value's length, else 0
	sizePage                         // a page: short page-cache reads lower it
	sizeLast                         // the last value's length (a first try of this issue)
)

// size is the best guess of the value's length that costs no bus read,
// and how long the kernel may keep it. The kernel hands the size to
// programs that copy as many bytes as stat says without asking again
// after open (busybox tar and cpio, Python's tarfile), so a size below
// the length of the value the next open serves would make them copy it
// short, silently. Hence:
//   - an open handle's value: exact, for as long as the cache would serve
//     that value (an fstat after open sees it);
//   - a value the cache holds: exact, for as long as the cache holds it,
//     since an open before then is served that very value;
//   - a fixed value (ids, family, type) seen before: exact, it never
//     changes (an alias is "fixed" too, but can be written);
//   - else an upper bound: the structure line's width, or a page. A
//     program that trusts it then fails loudly ("short read"), while one
//     that asks again after open (GNU tar, rsync, cp, wc) gets the exact
//     length, which Open tells the kernel (see correctSize).
//
// It is 0 only for a value known to be empty: tar does not even open an
// empty file.
func (p *propNode) size(f fs.FileHandle) (uint64, time.Duration) {
	keep := p.fsys().cache.Lifetimes().Directory // the kernel's default
	switch p.fsys().opts.sizing {
	case sizeZero:
		return 0, keep
	case sizePage:
		return unknownSize, keep
	case sizeCachedOnly:
		if v, _, ok := p.fsys().cache.Cached(p.path()); ok {
			return uint64(len(p.present(v))), keep
		}
		return 0, keep
	case sizeWidth:
		return p.width(), keep
	case sizeLast:
		if n := p.last.Load(); n > 0 {
			return uint64(n), keep
		}
		if v, _, ok := p.fsys().cache.Cached(p.path()); ok {
			return uint64(len(p.present(v))), keep
		}
		return p.width(), keep
	}
	v, fresh, cached := p.fsys().cache.Cached(p.path())
	until := max(min(fresh, keep), time.Nanosecond) // 0 would mean the default
	if h, ok := f.(*handle); ok && h.node == p {
		if n := h.size(); n >= 0 {
			if cached && int64(len(p.present(v))) == n {
				return uint64(n), until
			}
			return uint64(n), time.Nanosecond
		}
	}
	if cached {
		return uint64(len(p.present(v))), until
	}
	if n := p.last.Load(); n >= 0 && p.info.prop.Class == owclient.Fixed && !p.writable() {
		return uint64(n), keep
	}
	return p.width(), keep
}

// width is the structure line's width, as the file's size: an upper bound
// for text (with the newline the mount adds), the exact size of a memory
// page; a page without a line.
func (p *propNode) width() uint64 {
	if st := p.info.prop.Structure; p.info.prop.Known && st.Size > 0 {
		if p.isBinary() {
			return uint64(st.Size)
		}
		if p.fsys().opts.Newline {
			return uint64(st.Size) + 1
		}
		return uint64(st.Size)
	}
	return unknownSize
}

// unknownSize is the size of a value never seen and without a width, as
// sysfs gives its files: nonzero, so that readers open it.
const unknownSize = 4096

// grewTo notes that a write up to end raised the kernel's size to end if
// it was less (it does so for direct I/O writes too), so that correctSize
// knows what to lower.
func (p *propNode) grewTo(end int64) {
	e := clamp(end)
	for {
		told := p.told.Load()
		if told < 0 || told >= e || p.told.CompareAndSwap(told, e) {
			return
		}
	}
}
