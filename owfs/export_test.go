package owfs

import "strings"

// Writers returns how many handles are open for writing on the file at
// owserver path p, 0 if the kernel never looked it up. RELEASE removes a
// handle last, after sending what it had to: a test polls this to know
// that the kernel's asynchronous RELEASE has run.
func (r *Root) Writers(p string) int {
	in := r.EmbeddedInode()
	for _, name := range strings.Split(strings.Trim(p, "/"), "/") {
		if in = in.GetChild(name); in == nil {
			return 0
		}
	}
	n, ok := in.Operations().(*propNode)
	if !ok {
		return 0
	}
	w := n.w.Load()
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.open)
}
