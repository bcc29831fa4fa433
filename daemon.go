package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The environment of a daemon child: which descriptor to report on, and
// its mountpoint and log file as the caller's working directory resolved
// them.
const (
	readyEnv      = "OWFUSE_READY_FD"
	mountpointEnv = "OWFUSE_DAEMON_MOUNTPOINT"
	logFileEnv    = "OWFUSE_DAEMON_LOG_FILE"
)

// daemonize starts this program again with args, detached (a session of
// its own, cwd /, no terminal), and waits until the child reports that the
// mount answers, or why it could not mount, or until timeout. The parent
// never touches the mountpoint: under autofs a stat from here would wait
// for the very mount it is making.
//
// The child parses args again, in /: the mountpoint dir and logFile
// (empty: none) in them are replaced by these, which must be absolute.
// Relative ones would name files in / (`owfuse mount --daemon HOST mnt`
// from a directory of one's own mounted over the system's /mnt).
//
// A signal from sigs while the parent waits (Ctrl-C on a mount that waits
// for owserver, systemd stopping mount(8)) is passed on to the child as
// SIGTERM: the child is in a session of its own and would otherwise mount
// later, unseen. The parent then reports the child's answer as an error.
func daemonize(args []string, dir, logFile string, timeout time.Duration, sigs <-chan os.Signal) error {
	if !filepath.IsAbs(dir) || (logFile != "" && !filepath.IsAbs(logFile)) {
		return fmt.Errorf("daemonize: mountpoint %q and log file %q must be absolute", dir, logFile)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	out, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return err
	}
	defer out.Close()
	if logFile != "" {
		// A panic's stack lands in the log file, not in /dev/null.
		lf, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			w.Close()
			return fmt.Errorf("log file: %w", err)
		}
		defer lf.Close()
		out = lf
	}
	// Descriptors this process inherited without close-on-exec (a
	// pipeline's write end, a shell's fd 200) would live as long as the
	// daemon: "owfuse mount --daemon … | cat" would never end.
	closeOnExec()
	cmd := exec.Command(exe, args...)
	// The same name as this process: the command line means something
	// else under the name mount.owfuse than under owfuse.
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), readyEnv+"=3", mountpointEnv+"="+dir, logFileEnv+"="+logFile)
	cmd.ExtraFiles = []*os.File{w}
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	line, sig, err := awaitReport(r, timeout, sigs, cmd.Process)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("the mount did not come up within %v", timeout)
	}
	if line == "ok" && sig == nil {
		return cmd.Process.Release()
	}
	if line == "ok" { // mounted as the signal came: the child unmounts
		cmd.Process.Release()
		return fmt.Errorf("interrupted by signal %v; the mount is being undone", sig)
	}
	werr := cmd.Wait()
	kind, msg, found := strings.Cut(line, "\t")
	if !found {
		return fmt.Errorf("the background process exited before mounting (%v; see --log-file or syslog)", werr)
	}
	return &childError{Msg: msg, Unreachable: kind == "unreachable"}
}

// childError is why a daemon child could not mount, as it reported it.
type childError struct {
	Msg         string
	Unreachable bool // owserver did not answer
}

func (e *childError) Error() string { return e.Msg }

// awaitReport reads the child's report line from r, for up to timeout.
// A signal meanwhile is sent on to child as SIGTERM, and returned, and
// the report still awaited: the child says what it undid.
func awaitReport(r io.Reader, timeout time.Duration, sigs <-chan os.Signal, child *os.Process) (line string, sig os.Signal, err error) {
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSuffix(line, "\n")
	}()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case l := <-got:
			return l, sig, nil
		case s := <-sigs:
			if sig == nil {
				sig = s
				child.Signal(syscall.SIGTERM)
			}
		case <-deadline.C:
			return "", sig, errors.New("timeout")
		}
	}
}

// absPaths resolves a relative mountpoint and log file against the
// working directory, for a daemon that will run in /.
func absPaths(dir, logFile string) (string, string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", "", fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	if logFile == "" {
		return absDir, "", nil
	}
	absLog, err := filepath.Abs(logFile)
	if err != nil {
		return "", "", fmt.Errorf("log file %s: %w", logFile, err)
	}
	return absDir, absLog, nil
}

// daemonChild is a daemon child's side of Daemonize: the mountpoint and
// log file its parent resolved, and the descriptor the parent waits on.
type daemonChild struct {
	dir, logFile string
	ready        *os.File // nil once reported
}

// asDaemonChild returns this process's daemonChild, or nil if Daemonize
// did not start it.
func asDaemonChild() *daemonChild {
	fd, err := strconv.Atoi(os.Getenv(readyEnv))
	if err != nil {
		return nil
	}
	return &daemonChild{dir: os.Getenv(mountpointEnv), logFile: os.Getenv(logFileEnv), ready: os.NewFile(uintptr(fd), "ready")}
}

// report tells the waiting parent that the mount answers (err nil) or
// why it failed. Only the first report counts; on nil it does nothing.
func (d *daemonChild) report(err error) {
	if d == nil || d.ready == nil {
		return
	}
	defer func() { d.ready.Close(); d.ready = nil }()
	msg := "ok"
	if err != nil {
		kind := "error"
		if unreachable(err) {
			kind = "unreachable"
		}
		msg = kind + "\t" + strings.ReplaceAll(err.Error(), "\n", " ")
	}
	fmt.Fprintln(d.ready, msg)
}

// daemonLogger returns where a detached daemon logs: logFile if given,
// else syslog (journald); with neither, nowhere.
func daemonLogger(logFile string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		return slog.New(slog.NewTextHandler(f, opts)), nil
	}
	w, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, "owfuse")
	if err != nil {
		return slog.New(slog.DiscardHandler), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// closeOnExec marks every descriptor above stderr close-on-exec.
func closeOnExec() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
