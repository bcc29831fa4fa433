package owshell

import (
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestRewrite(t *testing.T) {
	read := readCommand()
	p := Parser{Flags: append(ServerFlags(), read.Flags...), Shorthands: Shorthands()}
	tests := []struct {
		name      string
		args      []string
		flags     []string
		operands  []string
		errorText string
	}{
		{"flags after operands", []string{"/a", "-s", "h:1", "/b"}, []string{"--server=h:1"}, []string{"/a", "/b"}, ""},
		{"attached short value", []string{"-sh:1", "/a"}, []string{"--server=h:1"}, []string{"/a"}, ""},
		{"cluster", []string{"-qFs", "h", "/a"}, []string{"--quiet", "--temp-scale=F", "--server=h"}, []string{"/a"}, ""},
		{"long with =", []string{"--size=3", "/a"}, []string{"--size=3"}, []string{"/a"}, ""},
		{"long with next", []string{"/a", "--offset", "2"}, []string{"--offset=2"}, []string{"/a"}, ""},
		{"value that looks like a flag", []string{"--offset", "-1", "/a"}, []string{"--offset=-1"}, []string{"/a"}, ""},
		{"negative number operand", []string{"/a", "-5", "/b", "-.5"}, nil, []string{"/a", "-5", "/b", "-.5"}, ""},
		{"last scale wins, in order", []string{"-C", "--temp-scale", "K", "--Fahrenheit"}, []string{"--temp-scale=C", "--temp-scale=K", "--temp-scale=F"}, nil, ""},
		{"double dash ends flags", []string{"--", "-s", "x"}, nil, []string{"-s", "x"}, ""},
		{"lone dash is an operand", []string{"-"}, nil, []string{"-"}, ""},
		{"help", []string{"/a", "-h"}, []string{"--help"}, []string{"/a"}, ""},
		{"bool with value", []string{"--hex=false"}, []string{"--hex=false"}, nil, ""},
		{"unknown long", []string{"--bogus"}, nil, nil, "unknown option --bogus"},
		{"unknown short", []string{"-x"}, nil, nil, "unknown option -x"},
		{"typo suggested", []string{"--sise", "3"}, nil, nil, "did you mean --size?"},
		{"missing value", []string{"/a", "-s"}, nil, nil, "option -s needs a value"},
		{"shorthand takes no value", []string{"--Kelvin=1"}, nil, nil, "takes no value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags, operands, err := p.Rewrite(tt.args)
			if tt.errorText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errorText) {
					t.Fatalf("error %v, want one containing %q", err, tt.errorText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(flags, tt.flags) || !slices.Equal(operands, tt.operands) {
				t.Errorf("got flags %q operands %q, want %q %q", flags, operands, tt.flags, tt.operands)
			}
		})
	}
}

// TestRewriteParses checks that cli reads the rewritten line as meant.
func TestRewriteParses(t *testing.T) {
	var got []string
	var server string
	cmd := &cli.Command{Name: "read", Flags: append(ServerFlags(), readCommand().Flags...),
		Action: func(c *cli.Context) error { got, server = c.Args().Slice(), c.String("server"); return nil }}
	p := Parser{Flags: cmd.Flags, Shorthands: Shorthands()}
	flags, operands, err := p.Rewrite([]string{"/a", "-s", "h:1", "--", "-b"})
	if err != nil {
		t.Fatal(err)
	}
	app := &cli.App{Commands: []*cli.Command{cmd}}
	if err := app.Run(slices.Concat([]string{"x", "read"}, flags, []string{"--"}, operands)); err != nil {
		t.Fatal(err)
	}
	if server != "h:1" || !slices.Equal(got, []string{"/a", "-b"}) {
		t.Errorf("server %q operands %q, want h:1 [/a -b]", server, got)
	}
}

func TestIgnored(t *testing.T) {
	p := Parser{Flags: ServerFlags(), Ignored: readCommand().Flags}
	flags, operands, err := p.Rewrite([]string{"--size", "3", "--hex", "/a"})
	if err != nil || len(flags) != 0 || !slices.Equal(operands, []string{"/a"}) {
		t.Errorf("got %q %q %v, want the ignored flags and their values dropped", flags, operands, err)
	}
}

func TestOptionList(t *testing.T) {
	p := Parser{OptionList: func(list string) ([]string, error) { return strings.Split("--"+list, ","), nil }}
	flags, operands, err := p.Rewrite([]string{"src", "-o", "ro", "dst", "-oa"})
	if err != nil || !slices.Equal(flags, []string{"--ro", "--a"}) || !slices.Equal(operands, []string{"src", "dst"}) {
		t.Errorf("got %q %q %v", flags, operands, err)
	}
}

func TestSuggest(t *testing.T) {
	verbs := []string{"dir", "read", "write", "get", "present", "ping", "mount"}
	for word, want := range map[string]string{
		"raed": "read", "reda": "read", "wirte": "write", "mnt": "", "moutn": "mount", "prsent": "present",
		"dri": "dir", "x": "", "frob": "", "pign": "ping", "mountt": "mount",
	} {
		if got := Suggest(word, verbs); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestUntilOperand(t *testing.T) {
	p := Parser{Flags: ServerFlags(), UntilOperand: true}
	for _, tt := range []struct{ args, flags, operands []string }{
		{[]string{"-s", "h", "read", "-x"}, []string{"--server=h"}, []string{"read", "-x"}},
		{[]string{"-s", "h", "--", "read", "-x"}, []string{"--server=h"}, []string{"--", "read", "-x"}},
		{[]string{"-s", "--", "read"}, []string{"--server=--"}, []string{"read"}},
	} {
		flags, operands, err := p.Rewrite(tt.args)
		if err != nil || !slices.Equal(flags, tt.flags) || !slices.Equal(operands, tt.operands) {
			t.Errorf("%q: got %q %q %v, want %q %q", tt.args, flags, operands, err, tt.flags, tt.operands)
		}
	}
}
