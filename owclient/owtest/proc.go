package owtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcCPU returns the user and system CPU time that process pid and all
// its threads used so far, exited threads included (utime and stime of
// /proc/PID/stat, in ticks of 10 ms), or -1 if it cannot be read.
// Benchmarks take it around a run to charge a server its share.
func ProcCPU(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name, in parentheses, may hold spaces and parentheses:
	// fields count from after the last ')'; utime and stime are fields
	// 14 and 15.
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick
}

// ProcStatusKB returns a field of /proc/PID/status in kB: VmRSS (resident
// now), VmHWM (its peak).
func ProcStatusKB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
