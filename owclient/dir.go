package owclient

import (
	"context"
	"fmt"
	"strings"
	"syscall"
)

// DirOption changes what Dir lists.
type DirOption func(*dirOptions)

type dirOptions struct {
	slash bool
	bus   bool
}

// WithSlash controls the trailing "/" on directory entries (default on).
// Servers that refuse MSG_DIRALLSLASH list without slashes.
func WithSlash(on bool) DirOption { return func(o *dirOptions) { o.slash = on } }

// WithBus controls whether listings include bus.N, settings, uncached,
// system, statistics, structure, simultaneous and alarm (FlagBusRet). The
// default is the client's own FlagBusRet.
func WithBus(on bool) DirOption { return func(o *dirOptions) { o.bus = on } }

// Dir modes, in the order Dir falls back through them.
const (
	modeDirAllSlash int32 = iota
	modeDirAll
	modeDir
)

var dirTypes = [...]MsgType{MsgDirAllSlash, MsgDirAll, MsgDir}

// Dir lists the directory at path as full paths ("/10.67C6697351FF/",
// "/10.67C6697351FF/temperature"). It asks with MSG_DIRALLSLASH and falls
// back to MSG_DIRALL and then MSG_DIR when the server answers -42 (older
// servers, --no_dirall), remembering the fallback.
func (c *Client) Dir(ctx context.Context, path string, opts ...DirOption) ([]string, error) {
	o := dirOptions{slash: true, bus: c.flags&FlagBusRet != 0}
	for _, f := range opts {
		f(&o)
	}
	flags := c.flags &^ FlagBusRet
	if o.bus {
		flags |= FlagBusRet
	}
	mode := c.server.dirMode.Load()
	if !o.slash {
		mode = max(mode, modeDirAll)
	}
	for {
		rep, err := c.doRaw(ctx, "dir", dirTypes[mode], flags, path, nil, 0, 0)
		if err != nil {
			return nil, err
		}
		if rep.hdr.Ret == -int32(syscall.ENOMSG) && mode < modeDir {
			mode++
			c.rememberDirMode(mode)
			continue
		}
		if rep.hdr.Ret < 0 {
			return nil, c.serverError(ctx, "dir", path, -rep.hdr.Ret)
		}
		if mode == modeDir {
			return rep.entries, nil
		}
		list, err := splitList(rep.data)
		if err != nil {
			return nil, c.opError("dir", path, err)
		}
		return list, nil
	}
}

// DirSlashes reports whether Dir's listings mark directories with a
// trailing slash: false once this server refused MSG_DIRALLSLASH (an old
// owserver, or --no_dirall).
func (c *Client) DirSlashes() bool { return c.server.dirMode.Load() == modeDirAllSlash }

func (c *Client) rememberDirMode(mode int32) {
	for {
		old := c.server.dirMode.Load()
		if old >= mode || c.server.dirMode.CompareAndSwap(old, mode) {
			return
		}
	}
}

// splitList splits a DIRALL reply: comma-separated, NUL-terminated. The
// entries are counted first: a payload of commas within the byte limit
// would split into millions of empty strings, 16 bytes of header each.
func splitList(data []byte) ([]string, error) {
	s := strings.TrimRight(string(data), "\x00")
	if s == "" {
		return []string{}, nil
	}
	if n := strings.Count(s, ",") + 1; n > MaxDirEntries {
		return nil, &ProtocolError{Kind: ErrListingTooLarge, Detail: fmt.Sprintf("DIRALL listing of %d entries, limit is %d", n, MaxDirEntries)}
	}
	return strings.Split(s, ","), nil
}
