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
	"sync"
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

// Daemonize starts this program again with args, detached (a session of
// its own, cwd /, no terminal), and waits until the child reports that the
// mount answers, or why it could not mount, or until timeout. The parent
// never touches the mountpoint: under autofs a stat from here would wait
// for the very mount it is making.
//
// The child parses args again, in /: the mountpoint dir and logFile
// (empty: none) in them are replaced by these, which must be absolute.
// Relative ones would name files in / (`owfuse mount --daemon HOST mnt`
// from a directory of one's own mounted over the system's /mnt).
func Daemonize(args []string, dir, logFile string, timeout time.Duration) error {
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
	line, err := readLine(r, timeout)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("the mount did not come up within %v", timeout)
	}
	if line == "ok" {
		return cmd.Process.Release()
	}
	werr := cmd.Wait()
	kind, msg, found := strings.Cut(line, "\t")
	if !found {
		return fmt.Errorf("owfuse exited before mounting (%v; see its log)", werr)
	}
	return &ChildError{Msg: msg, Unreachable: kind == "unreachable"}
}

// ChildError is why a daemon child could not mount, as it reported it.
type ChildError struct {
	Msg         string
	Unreachable bool // owserver did not answer
}

func (e *ChildError) Error() string { return e.Msg }

func readLine(r io.Reader, timeout time.Duration) (string, error) {
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSuffix(line, "\n")
	}()
	select {
	case l := <-got:
		return l, nil
	case <-time.After(timeout):
		return "", errors.New("timeout")
	}
}

// IsDaemonChild reports whether Daemonize started this process.
func IsDaemonChild() bool { return os.Getenv(readyEnv) != "" }

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

// daemonPaths returns the mountpoint and log file that Daemonize handed a
// daemon child, in place of dir and logFile parsed from its arguments.
func daemonPaths(dir, logFile string) (string, string) {
	if d := os.Getenv(mountpointEnv); d != "" {
		dir = d
	}
	if l, ok := os.LookupEnv(logFileEnv); ok {
		logFile = l
	}
	return dir, logFile
}

var notifyOnce sync.Once

// NotifyParent tells a waiting Daemonize that the mount answers (err nil)
// or why it failed. Only the first call counts; outside a daemon child it
// does nothing.
func NotifyParent(err error) {
	notifyOnce.Do(func() {
		fd, convErr := strconv.Atoi(os.Getenv(readyEnv))
		if convErr != nil {
			return
		}
		f := os.NewFile(uintptr(fd), "ready")
		if f == nil {
			return
		}
		defer f.Close()
		msg := "ok"
		if err != nil {
			kind := "error"
			if unreachable(err) {
				kind = "unreachable"
			}
			msg = kind + "\t" + strings.ReplaceAll(err.Error(), "\n", " ")
		}
		fmt.Fprintln(f, msg)
	})
}

// DaemonLogger returns where a detached daemon logs: logFile if given,
// else syslog (journald); with neither, nowhere.
func DaemonLogger(logFile string, level slog.Level) (*slog.Logger, error) {
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
