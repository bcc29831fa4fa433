package owshell

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Parser rewrites a command line so that urfave/cli, which like Go's flag
// package stops at the first operand, sees every flag wherever it stands:
// ow-shell's getopt takes `owdir / -s host` and mount(8) puts -o after the
// operands. The result is the flags first, in the order given (so the last
// of two wins, as with getopt), each spelled --name or --name=value, then
// "--" and the operands. Anything it cannot place is an error, never
// dropped.
type Parser struct {
	// Flags are the flags the command defines.
	Flags []cli.Flag
	// Shorthands are switches that stand for a flag with a value, such as
	// ow-shell's -F for --temp-scale=F: "F" -> "temp-scale=F".
	Shorthands map[string]string
	// Ignored are flags accepted and dropped: ow-shell's programs all take
	// every ow-shell option, even those that mean nothing to them.
	Ignored []cli.Flag
	// OptionList, when set, expands a -o list (mount(8)'s "ro,uid=0")
	// into flags in the same form.
	OptionList func(list string) ([]string, error)
	// UntilOperand stops at the first operand, leaving it and everything
	// after it untouched: to find a verb, whose own options come after.
	// A "--" that ends the options stays in front of it, so that the
	// verb's own pass knows what follows is operands.
	UntilOperand bool
}

// Rewrite returns the flags, spelled --name[=value], and the operands.
// -h and --help pass through as --help.
func (p Parser) Rewrite(args []string) (flags, operands []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--" && p.UntilOperand:
			return flags, append(operands, args[i:]...), nil
		case a == "--":
			return flags, append(operands, args[i+1:]...), nil
		case !strings.HasPrefix(a, "-") || a == "-" || isNumber(a):
			// A negative number is a value (owwrite … temphigh -5), never
			// a flag: no flag is a digit.
			if p.UntilOperand {
				return flags, append(operands, args[i:]...), nil
			}
			operands = append(operands, a)
			continue
		}
		next := func(name string) (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		if long, ok := strings.CutPrefix(a, "--"); ok {
			name, value, hasValue := strings.Cut(long, "=")
			out, err := p.long(name, value, hasValue, true, next)
			if err != nil {
				return nil, nil, err
			}
			flags = append(flags, out...)
			continue
		}
		// A cluster of single-letter flags, as getopt reads them: -qs host,
		// -shost, -CF.
		short := a[1:]
		for j := 0; j < len(short); j++ {
			name := short[j : j+1]
			if name == "o" && p.OptionList != nil || p.takesValue(name) {
				value := short[j+1:]
				if value == "" {
					if value, err = next("-" + name); err != nil {
						return nil, nil, err
					}
				}
				out, err := p.long(name, value, true, false, nil)
				if err != nil {
					return nil, nil, err
				}
				flags = append(flags, out...)
				break
			}
			out, err := p.long(name, "", false, false, nil)
			if err != nil {
				return nil, nil, err
			}
			flags = append(flags, out...)
		}
	}
	return flags, operands, nil
}

// long spells one flag given by name; next fetches its value from the
// following argument when the flag takes one and none came with it.
// isLong tells a name spelled --name from a letter of a -abc cluster.
func (p Parser) long(name, value string, hasValue, isLong bool, next func(string) (string, error)) ([]string, error) {
	dash := "-"
	if isLong {
		dash = "--"
		if name == "" {
			return nil, fmt.Errorf("unknown option --=%s", value)
		}
		// GNU getopt takes any unambiguous prefix of a long option,
		// even of one letter: ow-shell users write --Fahr, --serv, --o.
		full, err := p.complete(name)
		if err != nil {
			return nil, err
		}
		name = full
	}
	switch {
	case name == "help" || name == "h":
		return []string{"--help"}, nil
	case name == "o" && p.OptionList != nil:
		if !hasValue {
			var err error
			if value, err = next("-o"); err != nil {
				return nil, err
			}
		}
		return p.OptionList(value)
	}
	if s, ok := p.Shorthands[name]; ok {
		if hasValue {
			return nil, fmt.Errorf("option %s%s takes no value", dash, name)
		}
		// What it stands for is a flag like any other: taken, or dropped
		// when ignored.
		name, value, hasValue = strings.Cut(s, "=")
	}
	f := lookup(p.Flags, name)
	ignored := false
	if f == nil {
		if f = lookup(p.Ignored, name); f == nil {
			return nil, fmt.Errorf("unknown option %s%s%s", dash, name, p.suggestFlag(name))
		}
		ignored = true
	}
	long := f.Names()[0]
	if takesValue(f) && !hasValue {
		if next == nil {
			return nil, fmt.Errorf("option %s%s needs a value", dash, name)
		}
		var err error
		if value, err = next(dash + name); err != nil {
			return nil, err
		}
		hasValue = true
	}
	if ignored {
		return nil, nil
	}
	if hasValue {
		return []string{"--" + long + "=" + value}, nil
	}
	return []string{"--" + long}, nil
}

// complete returns the long option name is an unambiguous prefix of, or
// name itself when it is one.
func (p Parser) complete(name string) (string, error) {
	names := []string{"help"}
	for _, fs := range [][]cli.Flag{p.Flags, p.Ignored} {
		for _, f := range fs {
			names = append(names, f.Names()...)
		}
	}
	for s := range p.Shorthands {
		names = append(names, s)
	}
	var matches []string
	for _, n := range names {
		if len(n) == 1 {
			continue // a short option: never spelled --x
		}
		if n == name {
			return name, nil
		}
		if strings.HasPrefix(n, name) && !slices.Contains(matches, n) {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 0:
		return name, nil // unknown: the caller says so, with a suggestion
	case 1:
		return matches[0], nil
	}
	slices.Sort(matches)
	return "", fmt.Errorf("option --%s is ambiguous: --%s", name, strings.Join(matches, ", --"))
}

func (p Parser) takesValue(name string) bool {
	f := lookup(p.Flags, name)
	if f == nil {
		f = lookup(p.Ignored, name)
	}
	return f != nil && takesValue(f)
}

func (p Parser) suggestFlag(name string) string {
	var names []string
	for _, f := range p.Flags {
		names = append(names, f.Names()...)
	}
	for s := range p.Shorthands {
		names = append(names, s)
	}
	if s := Suggest(name, names); s != "" {
		if len(s) == 1 {
			return fmt.Sprintf("; did you mean -%s?", s)
		}
		return fmt.Sprintf("; did you mean --%s?", s)
	}
	return ""
}

func lookup(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	d, ok := f.(cli.DocGenerationFlag)
	return ok && d.TakesValue()
}

// isNumber reports whether a looks like a negative number: -5, -1.5, -.5.
func isNumber(a string) bool {
	return len(a) > 1 && a[0] == '-' && (a[1] >= '0' && a[1] <= '9' || a[1] == '.' && len(a) > 2 && a[2] >= '0' && a[2] <= '9')
}

// Suggest returns the name closest to word when it is a likely typo of it
// (two edits or fewer, transpositions counted as one, and fewer edits than
// half the word), or "".
func Suggest(word string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		d := editDistance(word, n)
		if d < bestDist && 2*d < len(word)+1 {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours, each counting one.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
