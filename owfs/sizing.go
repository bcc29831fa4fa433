package owfs

import "github.com/hanwen/go-fuse/v2/fs"

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
)

// size is the best guess of the value's length that costs no bus read:
// that of the value an open handle serves, else of the value the cache
// holds, else of the last value served, else the structure line's width
// (an upper bound for text, the exact size of a memory page), else a page.
// It is 0 only for a value known to be empty: tar and others do not even
// open an empty file. A guess that proves wrong at open is corrected there
// (see correctSize).
func (p *propNode) size(f fs.FileHandle) uint64 {
	switch p.fs.opts.sizing {
	case sizeZero:
		return 0
	case sizePage:
		return unknownSize
	case sizeCachedOnly:
		if v, ok := p.fs.cache.Cached(p.path); ok {
			return uint64(len(p.present(v)))
		}
		return 0
	case sizeWidth:
		return p.width()
	}
	if h, ok := f.(*handle); ok && h.node == p {
		if n := h.size(); n >= 0 {
			return uint64(n)
		}
	}
	if v, ok := p.fs.cache.Cached(p.path); ok {
		return uint64(len(p.present(v)))
	}
	if n := p.last.Load(); n > 0 {
		return uint64(n)
	}
	return p.width()
}

// width is the structure line's width, as the file's size: an upper bound
// for text (with the newline the mount adds), the exact size of a memory
// page; a page without a line.
func (p *propNode) width() uint64 {
	if st := p.prop.Structure; p.prop.Known && st.Size > 0 {
		if p.isBinary() {
			return uint64(st.Size)
		}
		if p.fs.opts.Newline {
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
	for {
		told := p.told.Load()
		if told < 0 || told >= end || p.told.CompareAndSwap(told, end) {
			return
		}
	}
}
