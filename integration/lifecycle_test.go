package integration

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient/owtest"
)

// The command line as people use it (issue 12): from a directory of
// their own, with relative paths, short waits for owserver, and Ctrl-C
// on a mount that a shell still sits in.

// TestLifecycleWaitServer: -o wait_server=D waits all of D for an owserver
// that refuses connections (nothing listens), not the 1.5 s of 2 s or the
// 3.1 s of 5 s that the backoff reached before giving up.
func TestLifecycleWaitServer(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	port, err := owtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) // nothing listens
	for _, wait := range []time.Duration{2 * time.Second, 5 * time.Second} {
		t.Run(wait.String(), func(t *testing.T) {
			t.Parallel()
			mnt := t.TempDir()
			r := owfuse(t, "mount", "-o", "wait_server="+wait.String(), addr, mnt)
			if r.code != exitUnreachable || !strings.Contains(r.stderr, "owfuse: cannot reach owserver at "+addr) {
				t.Errorf("exit %d, stderr %q; want %d and cannot reach owserver", r.code, r.stderr, exitUnreachable)
			}
			// Each try is refused at once: the per-try timeout plays no part.
			if r.elapsed < wait || r.elapsed > wait+quickly {
				t.Errorf("gave up after %v, want %v to %v", r.elapsed, wait, wait+quickly)
			}
			t.Logf("wait_server=%v: gave up after %v", wait, r.elapsed)
			helperWantNothingMounted(t, mnt)
		})
	}
}
