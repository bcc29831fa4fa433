package owclient

import (
	"context"
	"sync"
)

// pool holds the connections to one owserver. The Client that New returns
// and all its clones share one pool, as net/http's Clients share a
// Transport; only that first Client closes it.
type pool struct {
	cfg       config
	sem       chan struct{} // one token per open connection
	done      chan struct{} // closed by close
	closeOnce sync.Once

	mu     sync.Mutex // guards following
	idle   []*conn
	closed bool
}

func newPool(cfg config, size int) *pool {
	return &pool{cfg: cfg, sem: make(chan struct{}, size), done: make(chan struct{})}
}

// acquire returns a connection for one request, waiting while the pool's
// size of connections are busy. With reuse it takes an idle connection if
// there is one; without, it always dials, so that a request which will not
// keep its connection does not use up one that another request could have
// kept using.
func (p *pool) acquire(ctx context.Context, reuse bool) (*conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, timeoutOrCancel(ctx)
	case <-p.done:
		return nil, ErrClosed
	}
	// select picks at random when both a token and done are ready: a
	// closed pool must refuse every request, also one that would dial.
	select {
	case <-p.done:
		<-p.sem
		return nil, ErrClosed
	default:
	}
	for reuse {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			<-p.sem
			return nil, ErrClosed
		}
		var cn *conn
		if n := len(p.idle); n > 0 {
			cn = p.idle[n-1]
			p.idle = p.idle[:n-1]
		}
		p.mu.Unlock()
		if cn == nil {
			break
		}
		if !cn.stale() {
			return cn, nil
		}
		cn.close()
	}
	cn, err := dial(ctx, &p.cfg)
	if err != nil {
		<-p.sem
		return nil, err
	}
	return cn, nil
}

// release returns cn to the pool if the server keeps it open, and frees
// its slot. A nil cn only frees the slot.
func (p *pool) release(cn *conn, reusable bool) {
	if cn != nil {
		keep := reusable && cn.persistent
		if keep {
			p.mu.Lock()
			if !p.closed {
				p.idle = append(p.idle, cn)
			} else {
				keep = false
			}
			p.mu.Unlock()
		}
		if !keep {
			cn.close()
		}
	}
	<-p.sem
}

// close closes the idle connections and makes acquire fail with
// ErrClosed; connections in use are closed when they are released.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	p.closeOnce.Do(func() { close(p.done) })
	for _, cn := range idle {
		cn.close()
	}
}

// stats returns the connections carrying a request and those idle.
func (p *pool) stats() (busy, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sem), len(p.idle)
}
