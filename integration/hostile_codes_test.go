package integration

// A server that answers with error codes the kernel must never see: codes
// of 512 and more, INT_MIN, ENOSYS. Each must reach the caller as an
// errno the kernel accepts, and leave the mount working.

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/owfuse/owfuse/owclient"
	"github.com/owfuse/owfuse/owclient/owtest"
)

// codeServer is a scripted owserver with one device whose reads,
// writes or listings answer a chosen error code while armed.
type codeServer struct {
	*owtest.FakeServer
	readCode, writeCode, dirCode atomic.Int32 // 0: answer normally
}

const hostileDev = "/10.67C6697351FF"

func startCodeServer(t *testing.T) *codeServer {
	t.Helper()
	h := &codeServer{}
	structure := map[string]string{
		"/structure/10/temperature": "t,000000,000001,ro,000012,v,",
		"/structure/10/temphigh":    "t,000000,000001,rw,000012,s,",
	}
	h.FakeServer = owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		c.Answer(func(r owtest.Request) (int32, []byte) {
			p := r.Path()
			switch r.Type {
			case owclient.MsgNop:
				return 0, nil
			case owclient.MsgDirAllSlash:
				if code := h.dirCode.Load(); code != 0 && p == hostileDev {
					return code, nil
				}
				switch p {
				case "/":
					return 0, []byte(hostileDev + "/")
				case hostileDev:
					return 0, []byte(hostileDev + "/temperature," + hostileDev + "/temphigh")
				}
				return -int32(syscall.ENOENT), nil
			case owclient.MsgRead:
				if line, ok := structure[p]; ok {
					return int32(len(line)), []byte(line)
				}
				if strings.HasPrefix(p, "/settings/return_codes/") {
					return -int32(syscall.ENOENT), nil
				}
				if code := h.readCode.Load(); code != 0 {
					return code, nil
				}
				return 4, []byte("21.5") // owserver trims: the mount asks it to
			case owclient.MsgWrite:
				if code := h.writeCode.Load(); code != 0 {
					return code, nil
				}
				return 0, nil
			}
			return -int32(syscall.ENOENT), nil
		})
	})
	return h
}

// runOrUnstick runs a program that must end within a few seconds. A
// caller the kernel put to sleep for good (a reply errno it refused)
// cannot be killed: then the mount is stopped to free it, and t fails.
func runOrUnstick(t *testing.T, m *mountProc, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(15 * time.Second):
		t.Errorf("%s %q still running after 15s: stuck in the kernel; stopping the mount", name, args)
		m.stop(t, syscall.SIGTERM)
		return out.String(), <-done
	}
}

func TestHostileErrorCodes(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	h := startCodeServer(t)
	dir := t.TempDir()
	m := startMount(t, h.Addr, dir, "-o", "volatile_ttl=0,stable_ttl=0,dir_ttl=0")
	temp := filepath.Join(dir, hostileDev, "temperature")
	high := filepath.Join(dir, hostileDev, "temphigh")

	// The mount works, before and after each hostile answer.
	healthy := func(when string) {
		t.Helper()
		if out, err := runOrUnstick(t, m, "cat", temp); err != nil || out != "21.5\n" {
			t.Fatalf("%s: cat temperature: %q %v", when, out, err)
		}
		if out, err := runOrUnstick(t, m, "sh", "-c", "echo 30 > "+high); err != nil {
			t.Fatalf("%s: echo 30 > temphigh: %q %v", when, out, err)
		}
		if out, err := runOrUnstick(t, m, "ls", filepath.Join(dir, hostileDev)); err != nil || out != "temperature\ntemphigh\n" {
			t.Fatalf("%s: ls: %q %v", when, out, err)
		}
	}
	healthy("at start")
	for _, tc := range []struct {
		name string
		code int32
		arm  *atomic.Int32
		run  []string
		want string
	}{
		{"read -600", -600, &h.readCode, []string{"cat", temp}, "Input/output error"},
		{"read INT_MIN", math.MinInt32, &h.readCode, []string{"cat", temp}, "Input/output error"},
		{"read -38 (OWFS: array index out of range)", -38, &h.readCode, []string{"cat", temp}, "Numerical result out of range"},
		{"listing -1000", -1000, &h.dirCode, []string{"ls", filepath.Join(dir, hostileDev)}, "Input/output error"},
		{"write -38", -38, &h.writeCode, []string{"bash", "-c", "echo 31 > " + high}, "Numerical result out of range"},
		{"write -600", -600, &h.writeCode, []string{"bash", "-c", "echo 31 > " + high}, "Input/output error"},
		{"write 2^31-1 negated", -math.MaxInt32, &h.writeCode, []string{"python3", "-c", "f = open('" + high + "', 'w'); f.write('32'); f.close()"}, "Input/output error"},
	} {
		tc.arm.Store(tc.code)
		out, err := runOrUnstick(t, m, tc.run[0], tc.run[1:]...)
		tc.arm.Store(0)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !strings.Contains(out, tc.want) {
			t.Errorf("%s: %s: %v, output %q; want a failure saying %q", tc.name, tc.run[0], err, out, tc.want)
		}
		healthy("after " + tc.name)
	}
	// ENOSYS at open would have switched FUSE_OPEN off for good: every
	// later read of every file empty, exit 0. Show it did not.
	if b, err := os.ReadFile(temp); err != nil || string(b) != "21.5\n" {
		t.Errorf("read after the hostile codes: %q %v", b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "sh", "-c", "printf 33 > "+high).Run(); err != nil {
		t.Errorf("write after the hostile codes: %v", err)
	}
}

// TestHostileNames: names no file can have (an alias of 256 bytes, one
// that is not UTF-8, a 5000-byte name) and a garbage structure line. The
// listing still works, a device with an unusable alias is listed under
// its id, and the garbage line costs one read, not an error per lookup.
func TestHostileNames(t *testing.T) {
	t.Parallel()
	requireFUSE(t)
	long := strings.Repeat("x", 256)
	bad := "a\xffb"
	huge := strings.Repeat("y", 5000)
	var structureReads atomic.Int32
	srv := owtest.NewFakeServer(t, func(c *owtest.FakeConn) {
		c.Answer(func(r owtest.Request) (int32, []byte) {
			p := r.Path()
			reply := func(s string) (int32, []byte) { return int32(len(s)), []byte(s) }
			switch {
			case r.Type == owclient.MsgNop:
				return 0, nil
			case r.Type == owclient.MsgDirAllSlash && p == "/":
				return 0, []byte("/" + long + "/,/" + bad + "/,/" + huge + "/,/28.000028D70100/,/settings/")
			case r.Type == owclient.MsgDirAllSlash && (p == "/10.000010EF0000" || p == "/29.000029D60400" || p == "/28.000028D70100"):
				return 0, []byte(p + "/temperature")
			case r.Type == owclient.MsgRead && p == "/settings/alias/list":
				return reply("10000010EF00005B=" + long + "\r\n29000029D6040012=" + bad + "\r\n")
			case r.Type == owclient.MsgRead && p == "/structure/28/temperature":
				structureReads.Add(1)
				return reply("garbage, not a line")
			case r.Type == owclient.MsgRead && strings.HasPrefix(p, "/structure/"):
				return reply("t,000000,000001,ro,000012,v,")
			case r.Type == owclient.MsgRead && strings.HasSuffix(p, "/temperature"):
				return reply("21.5")
			}
			return -int32(syscall.ENOENT), nil
		})
	})
	dir := t.TempDir()
	startMount(t, srv.Addr, dir)
	r := run(t, nil, "ls", dir)
	if r.code != 0 || r.stdout != "10.000010EF0000\n28.000028D70100\n29.000029D60400\nsettings\n" {
		t.Errorf("ls: exit %d, %q, stderr %q; want the devices with unusable aliases under their ids, the 5000-byte name left out", r.code, r.stdout, r.stderr)
	}
	for _, dev := range []string{"10.000010EF0000", "29.000029D60400", "28.000028D70100"} {
		for range 3 {
			if b, err := os.ReadFile(filepath.Join(dir, dev, "temperature")); err != nil || string(b) != "21.5\n" {
				t.Errorf("%s/temperature: %q %v", dev, b, err)
			}
		}
	}
	if n := structureReads.Load(); n != 1 {
		t.Errorf("the garbage structure line was read %d times, want once", n)
	}
}
