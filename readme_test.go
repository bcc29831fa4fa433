package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/owfuse/owfuse/owfs/mountlib"
)

var update = flag.Bool("update", false, "rewrite README.md's generated option table")

// The generated part of README.md stands between these lines.
const (
	readmeBegin = "<!-- mount options: generated from mountlib.Settings() by `go test -run TestREADMEOptions -update .`; do not edit -->\n"
	readmeEnd   = "<!-- end of mount options -->\n"
)

// optionTable is README's reference table of the mount options, one row
// an option, from the same table as the flags, the help and the man
// pages.
func optionTable() string {
	var b strings.Builder
	b.WriteString("| option | flag | environment variable | kind, range | default | meaning |\n|---|---|---|---|---|---|\n")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	code := func(s string) string {
		if s == "" {
			return ""
		}
		return "`" + s + "`"
	}
	for _, o := range mountlib.Settings().Options() {
		_, meaning := unquote(o.Help)
		def := o.Default()
		if o.DefaultText == "" {
			def = code(def)
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | %s | %s | %s | %s |\n",
			o.Name, o.FlagName(), code(o.Env), cell(o.Range()), cell(def), cell(meaning))
	}
	return b.String()
}

// TestREADMEOptions: README.md's table of mount options is what the
// option table says; `go test -run TestREADMEOptions -update .` rewrites
// it after a change to the table.
func TestREADMEOptions(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok := bytes.Cut(readme, []byte(readmeBegin))
	_, after, ok2 := bytes.Cut(rest, []byte(readmeEnd))
	if !ok || !ok2 {
		t.Fatalf("README.md lacks the lines\n%s…\n%s", readmeBegin, readmeEnd)
	}
	want := optionTable()
	if string(rest[:len(rest)-len(after)-len(readmeEnd)]) == want {
		return
	}
	if !*update {
		t.Fatal("README.md's table of mount options differs from mountlib.Settings(); run `go test -run TestREADMEOptions -update .`")
	}
	out := bytes.Join([][]byte{before, []byte(readmeBegin), []byte(want), []byte(readmeEnd), after}, nil)
	if err := os.WriteFile("README.md", out, 0o644); err != nil {
		t.Fatal(err)
	}
}
