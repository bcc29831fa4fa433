package owclient

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Access says whether a property can be read and written.
type Access string

// Access values of a structure line.
const (
	ReadOnly  Access = "ro"
	ReadWrite Access = "rw"
	WriteOnly Access = "wo"
	NoAccess  Access = "oo" // neither, e.g. a branch directory entry
)

// ChangeClass says how often a property's value changes, which bounds how
// long a copy of it stays true.
type ChangeClass byte

// Change classes of a structure line.
const (
	Fixed    ChangeClass = 'f' // never: ROM id, type, family
	Stable   ChangeClass = 's' // only when written: alias, temphigh, PIO
	Volatile ChangeClass = 'v' // at any time: temperature, counters
	Timer    ChangeClass = 't' // every second: clocks
)

// String names the class in words, as owfuse shows it to people (the
// user.owfs.change attribute, the class label of cache metrics), who do
// not know owserver's letters; "unknown" for a letter no line has.
func (c ChangeClass) String() string {
	switch c {
	case Fixed:
		return "fixed"
	case Stable:
		return "stable"
	case Volatile:
		return "volatile"
	case Timer:
		return "timer"
	}
	return "unknown"
}

// Structure is the metadata owserver gives for a property at
// /structure/<family>/<property>, e.g. "t,000000,000001,ro,000012,v,".
type Structure struct {
	Type     byte // format letter: D i u f l a b y d t g p (see OWFS's ow_read.c)
	Index    int  // element number; -1 for .ALL, -2 for .BYTE
	Elements int  // array length; 1 for scalars, -1 or 0 for sparse arrays
	Access   Access
	Size     int // the value's length in bytes, an upper bound for text
	Change   ChangeClass
}

// Readable reports whether the property can be read.
func (s Structure) Readable() bool { return s.Access == ReadOnly || s.Access == ReadWrite }

// Writable reports whether the property can be written.
func (s Structure) Writable() bool { return s.Access == WriteOnly || s.Access == ReadWrite }

// IsDir reports whether the entry is a directory (type D).
func (s Structure) IsDir() bool { return s.Type == 'D' }

// String returns s in owserver's own form.
func (s Structure) String() string {
	return fmt.Sprintf("%c,%s,%s,%s,%s,%c,", s.Type, pad6(s.Index), pad6(s.Elements), s.Access, pad6(s.Size), s.Change)
}

func pad6(n int) string {
	if n < 0 {
		return fmt.Sprintf("-%06d", -n)
	}
	return fmt.Sprintf("%06d", n)
}

const structureTypes = "Diuflabydtgp?"

// ErrBadStructure is wrapped by the error for a structure line that does
// not parse.
var ErrBadStructure = errors.New("bad structure line")

// ParseStructure parses one structure line. Surrounding spaces and the
// trailing comma are optional.
func ParseStructure(line string) (Structure, error) {
	bad := func(why string) (Structure, error) {
		return Structure{}, fmt.Errorf("owclient: %w %q: %s", ErrBadStructure, line, why)
	}
	f := strings.Split(strings.TrimSuffix(strings.TrimSpace(line), ","), ",")
	if len(f) != 6 {
		return bad(fmt.Sprintf("%d fields, want 6", len(f)))
	}
	if len(f[0]) != 1 || !strings.Contains(structureTypes, f[0]) {
		return bad("unknown type " + strconv.Quote(f[0]))
	}
	var n [3]int
	for i, field := range []string{f[1], f[2], f[4]} {
		v, err := strconv.Atoi(field)
		if err != nil || len(field) > 8 {
			return bad("field " + strconv.Quote(field) + " is not a number")
		}
		n[i] = v
	}
	a := Access(f[3])
	switch a {
	case ReadOnly, ReadWrite, WriteOnly, NoAccess:
	default:
		return bad("unknown access " + strconv.Quote(f[3]))
	}
	if len(f[5]) != 1 || !strings.Contains("fsvt", f[5]) {
		return bad("unknown change class " + strconv.Quote(f[5]))
	}
	if n[2] < 0 {
		return bad("negative size")
	}
	return Structure{Type: f[0][0], Index: n[0], Elements: n[1], Access: a, Size: n[2], Change: ChangeClass(f[5][0])}, nil
}

// Structure reads and parses /structure/<family>/<property>, e.g.
// family "10" and property "temperature" or "pages/page.0". It does not
// touch the 1-Wire bus.
func (c *Client) Structure(ctx context.Context, family, property string) (Structure, error) {
	path := "/structure/" + family + "/" + property
	b, err := c.Read(ctx, path)
	if err != nil {
		return Structure{}, err
	}
	s, err := ParseStructure(string(b))
	if err != nil {
		return Structure{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
