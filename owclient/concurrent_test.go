package owclient_test

import (
	"context"
	"fmt"
	"sync"
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
