package cache_test

import (
	"context"
	"strings"

	"github.com/owfuse/owfuse/cache"
	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// local is a cache.Client that answers from a tree in-process, as
// owclient reports owserver's answers: no socket to set up, and failures
// that a socket cannot stage on cue (a timeout, from tree.stalled).
type local struct{ tr *tree }

var _ cache.Client = local{}

func (l local) Addr() string { return "in-process" }

// ask sends the tree one request, as the fake server would get it, and
// turns a negative return code into owclient's error for it.
func (l local) ask(op string, typ owclient.MsgType, path string, data []byte) ([]byte, error) {
	req := owtest.Request{
		RequestHeader: owclient.RequestHeader{Type: typ, Size: int32(len(data))},
		Payload:       append(append([]byte(path), 0), data...),
	}
	ret, reply := l.tr.answer(req)
	if ret < 0 {
		return nil, &owclient.ServerError{Op: op, Path: path, Code: -ret}
	}
	return reply, nil
}

func (l local) Dir(ctx context.Context, path string, opts ...owclient.DirOption) ([]string, error) {
	typ := owclient.MsgDirAll
	if l.DirSlashes() {
		typ = owclient.MsgDirAllSlash
	}
	b, err := l.ask("dir", typ, path, nil)
	if err != nil || len(b) == 0 {
		return []string{}, err
	}
	return strings.Split(string(b), ","), nil
}

func (l local) DirSlashes() bool {
	l.tr.mu.Lock()
	defer l.tr.mu.Unlock()
	return l.tr.slash
}

func (l local) Present(ctx context.Context, path string) (bool, error) {
	_, err := l.ask("presence", owclient.MsgPresence, path, nil)
	if owclient.IsNotExist(err) {
		return false, nil
	}
	return err == nil, err
}

func (l local) Read(ctx context.Context, path string) ([]byte, error) {
	return l.ReadAt(ctx, path, owclient.DefaultReadSize, 0)
}

func (l local) ReadAt(ctx context.Context, path string, size, offset int) ([]byte, error) {
	l.tr.mu.Lock()
	stalled := l.tr.stalled[strip(path)]
	if stalled {
		l.tr.reads[strip(path)]++
	}
	l.tr.mu.Unlock()
	if stalled {
		return nil, &owclient.OpError{Op: "read", Path: path, Addr: l.Addr(), Err: owclient.ErrTimeout}
	}
	b, err := l.ask("read", owclient.MsgRead, path, nil)
	if err != nil {
		return nil, err
	}
	b = b[min(offset, len(b)):]
	return b[:min(size, len(b))], nil
}

func (l local) WriteAt(ctx context.Context, path string, data []byte, offset int) error {
	_, err := l.ask("write", owclient.MsgWrite, path, data)
	return err
}

func (l local) Structure(ctx context.Context, family, property string) (owclient.Structure, error) {
	b, err := l.Read(ctx, "/structure/"+family+"/"+property)
	if err != nil {
		return owclient.Structure{}, err
	}
	return owclient.ParseStructure(string(b))
}
