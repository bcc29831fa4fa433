package integration

import (
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	t.Parallel()
	verbs := []string{"dir", "read", "write", "present", "ping"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"app --help", []string{"--help"}, append([]string{"owfuse", "--server", "--temp-scale", "--pressure-scale",
			"--format", "--uncached", "--timeout", "--no-persistence", "--trace", "OWFUSE_SERVER"}, verbs...)},
		{"app -h", []string{"-h"}, verbs},
		{"help", []string{"help"}, verbs},
		{"dir --help", []string{"dir", "--help"}, []string{"owfuse dir - list directories", "--slash", "OWFUSE_DIR_SLASH"}},
		{"read --help", []string{"read", "--help"}, []string{"owfuse read - print values", "--size", "--offset", "--hex"}},
		{"write --help", []string{"write", "--help"}, []string{"owfuse write - set values", "PATH VALUE", "--offset", "--hex"}},
		{"present --help", []string{"present", "--help"}, []string{"owfuse present - print 1 or 0", "PATH..."}},
		{"ping --help", []string{"ping", "--help"}, []string{"owfuse ping - check that owserver answers"}},
		{"help read", []string{"help", "read"}, []string{"owfuse read - print values"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := owfuse(t, tt.args...)
			if r.code != exitOK {
				t.Errorf("exit code %d, want %d; stderr %q", r.code, exitOK, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("got %q, want it to contain %q", r.stdout, w)
				}
			}
		})
	}
}

func TestNoVerbShowsHelpAndFails(t *testing.T) {
	t.Parallel()
	r := owfuse(t)
	if r.code != exitUsage {
		t.Errorf("exit code %d, want %d", r.code, exitUsage)
	}
	if !strings.Contains(r.stdout, "COMMANDS:") {
		t.Errorf("got %q, want the command list", r.stdout)
	}
}
