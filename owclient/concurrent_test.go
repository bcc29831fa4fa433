package owclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// 64 goroutines share one client with a pool smaller than their number;
// each must get the answer to its own request, never another's.
func TestConcurrentCallersGetTheirOwnAnswers(t *testing.T) {
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		c.Answer(func(r owtest.Request) (int32, []byte) {
			if r.Type == owclient.MsgWrite {
				return 0, nil
			}
			if r.Path()[len(r.Path())-1] == '0' {
				// Slow answers with keepalives, so that requests overlap.
				for i := 0; i < 3; i++ {
					c.Keepalive()
				}
			}
			return int32(len(r.Path())), []byte("value of " + r.Path())
		})
	})
	c := newClient(t, srv.Addr, owclient.Options{PoolSize: 6})
	const goroutines, calls = 64, 50
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				path := fmt.Sprintf("/g%d/p%d", g, i)
				got, err := c.Read(ctx, path)
				if err != nil {
					errs <- err
					return
				}
				if string(got) != "value of "+path {
					errs <- fmt.Errorf("read %s got %q", path, got)
					return
				}
				if i%10 == 3 {
					if err := c.Write(ctx, path, []byte("1")); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.Accepted.Load(); n > 6 {
		t.Errorf("%d connections for a pool of 6", n)
	}
}

// A clone shares what was learnt about the server but has its own flags
// and persistence.
func TestClonesHaveTheirOwnFlags(t *testing.T) {
	flags := make(chan owclient.Flags, 10)
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		c.Answer(func(r owtest.Request) (int32, []byte) { flags <- r.Flags; return 0, nil })
	})
	base := newClient(t, srv.Addr, owclient.Options{Flags: owclient.FlagOwnet.WithTempScale(owclient.Fahrenheit)})
	np := base.WithPersistence(false)
	defer np.Close()
	k := base.WithFlags(owclient.Flags(0).WithTempScale(owclient.Kelvin))
	defer k.Close()
	for _, tc := range []struct {
		c    *owclient.Client
		want owclient.Flags
	}{
		{base, owclient.FlagOwnet | owclient.FlagPersistence | 0x10000},
		{np, owclient.FlagOwnet | 0x10000},
		{k, owclient.FlagPersistence | 0x20000},
	} {
		if err := tc.c.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := <-flags; got != tc.want {
			t.Errorf("flags %#x, want %#x", got, tc.want)
		}
	}
}

// Clones share their parent's pool: a persistent clone reuses the
// parent's idle connection, and a non-persistent one dials its own,
// leaves the idle one alone and closes its own after the reply, even when
// the server would keep it open.
func TestClonesShareTheParentsPool(t *testing.T) {
	clientClosed := make(chan struct{}, 10)
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		persistentEcho(c) // returns after a request without persistence
		// owserver would close now; stay open to see the client close.
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) {
			clientClosed <- struct{}{}
		}
	})
	ctx := context.Background()
	base := newClient(t, srv.Addr, owclient.Options{})
	read := func(name string, c *owclient.Client, wantAccepted int64) {
		t.Helper()
		if _, err := c.Read(ctx, tempPath); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := srv.Accepted.Load(); n != wantAccepted {
			t.Fatalf("after a read by %s: %d connections accepted, want %d", name, n, wantAccepted)
		}
	}
	read("the parent", base, 1)
	read("a WithFlags clone", base.WithFlags(owclient.FlagUncached), 1)
	read("a persistent clone", base.WithPersistence(true), 1)

	np := base.WithPersistence(false)
	read("a non-persistent clone", np, 2)
	select {
	case <-clientClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("the non-persistent clone kept its connection open")
	}
	if busy, idle := np.PoolStats(); busy != 0 || idle != 1 {
		t.Errorf("PoolStats after the non-persistent read: %d busy, %d idle; want 0 and the parent's 1", busy, idle)
	}
	read("the parent after the non-persistent clone", base, 2)
}

// Closing a clone ends the clone only; closing the Client New returned
// closes the shared pool, for its clones too.
func TestClosingAClone(t *testing.T) {
	srv := owtest.NewFakeServer(t, persistentEcho)
	ctx := context.Background()
	base := newClient(t, srv.Addr, owclient.Options{})
	clone := base.WithFlags(owclient.FlagUncached)
	other := base.WithFlags(owclient.FlagTrim)
	for _, c := range []*owclient.Client{base, clone, other} {
		if _, err := c.Read(ctx, tempPath); err != nil {
			t.Fatal(err)
		}
	}
	clone.Close()
	if _, err := clone.Read(ctx, tempPath); !errors.Is(err, owclient.ErrClosed) {
		t.Errorf("closed clone: got %v, want ErrClosed", err)
	}
	for _, c := range []*owclient.Client{base, other} {
		if _, err := c.Read(ctx, tempPath); err != nil {
			t.Errorf("after closing a clone: %v", err)
		}
	}
	if n := srv.Accepted.Load(); n != 1 {
		t.Errorf("%d connections, want the one the clone shared", n)
	}
	base.Close()
	if _, err := other.Read(ctx, tempPath); !errors.Is(err, owclient.ErrClosed) {
		t.Errorf("clone of a closed client: got %v, want ErrClosed", err)
	}
	if busy, idle := other.PoolStats(); busy != 0 || idle != 0 {
		t.Errorf("PoolStats after Close: %d busy, %d idle; want none", busy, idle)
	}
	// A non-persistent clone dials for every request: it too must stop
	// once the pool is closed, every time, not at random.
	oneShot := base.WithPersistence(false)
	before := srv.Accepted.Load()
	for range 50 {
		if _, err := oneShot.Read(ctx, tempPath); !errors.Is(err, owclient.ErrClosed) {
			t.Fatalf("non-persistent clone of a closed client: got %v, want ErrClosed", err)
		}
	}
	if n := srv.Accepted.Load() - before; n != 0 {
		t.Errorf("%d connections after Close, want none", n)
	}
}

// A parent and its clones, persistent or not, used at once from many
// goroutines: PoolSize bounds them together (run under -race).
func TestClonesInParallelShareThePoolSize(t *testing.T) {
	var persistentConns atomic.Int64
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		first := true
		c.Answer(func(r owtest.Request) (int32, []byte) {
			if first && r.Flags&owclient.FlagPersistence != 0 {
				persistentConns.Add(1)
			}
			first = false
			c.Keepalive() // slow enough that requests overlap
			return int32(len(r.Path())), []byte(r.Path())
		})
	})
	const poolSize = 2
	base := newClient(t, srv.Addr, owclient.Options{PoolSize: poolSize})
	clients := []*owclient.Client{base, base.WithFlags(owclient.FlagUncached), base.WithPersistence(false), base.WithFlags(owclient.FlagTrim)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(clients))
	for i, c := range clients {
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 20; n++ {
					path := fmt.Sprintf("/c%d/g%d/%d", i, g, n)
					if got, err := c.Read(ctx, path); err != nil || string(got) != path {
						errs <- fmt.Errorf("read %s: got %q, %v", path, got, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := persistentConns.Load(); n > poolSize {
		t.Errorf("%d persistent connections for a shared pool of %d", n, poolSize)
	}
}
