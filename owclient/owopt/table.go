package owopt

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Naming is how a table's messages name its options.
type Naming int

const (
	// FlagNaming names them as flags, --temp-scale: the toolbox's.
	FlagNaming Naming = iota
	// ListNaming names them as in -o lists, temp_scale: the mount's,
	// whose options an fstab line gives.
	ListNaming
)

// Table is the options of a command line that fill a C. It is read-only
// once made: Options returns copies.
type Table[C any] struct {
	options  []Option[C]
	defaults func() C
	naming   Naming
}

// NewTable makes a table of options, whose defaults are defaults().
func NewTable[C any](naming Naming, defaults func() C, options ...Option[C]) *Table[C] {
	d := defaults()
	t := &Table[C]{defaults: defaults, naming: naming}
	for _, o := range options {
		o.def = o.get(&d)
		t.options = append(t.options, o)
	}
	return t
}

// Options returns a copy of the table's options, in order.
func (t *Table[C]) Options() []Option[C] {
	out := slices.Clone(t.options)
	for i := range out {
		out[i].Aliases = slices.Clone(out[i].Aliases)
		out[i].Choices = slices.Clone(out[i].Choices)
	}
	return out
}

// Lookup finds an option by its name, with underscores or dashes.
func (t *Table[C]) Lookup(name string) (Option[C], bool) {
	name = strings.ReplaceAll(name, "-", "_")
	for _, o := range t.Options() {
		if o.Name == name {
			return o, true
		}
	}
	return Option[C]{}, false
}

// Flags returns a flag for each option, in order; see Option.Flag.
func (t *Table[C]) Flags() []cli.Flag {
	flags := make([]cli.Flag, len(t.options))
	for i, o := range t.options {
		flags[i] = o.Flag()
	}
	return flags
}

// Parse reads the table's options from a parsed command line into a C:
// each option as its flag was given last, else as its environment
// variable says (an empty one says nothing), else its default. Only the
// options the command has flags for are read. A variable is read only
// when its flag is not given, so that a flag corrects a bad variable;
// the first bad value is an *Error, and the rest of C is filled all the
// same.
func (t *Table[C]) Parse(c *cli.Context) (C, error) {
	cfg := t.defaults()
	var first error
	for _, o := range t.options {
		v, ok := c.Generic(o.FlagName()).(*value)
		if !ok {
			continue // not an option of this command
		}
		text, env := v.text, ""
		if !v.given {
			if o.Env == "" || os.Getenv(o.Env) == "" {
				continue
			}
			text, env = os.Getenv(o.Env), o.Env
		}
		if err := o.set(&cfg, text); err != nil && first == nil {
			first = &Error{Option: t.name(o), Env: env, Err: err}
		}
	}
	return cfg, first
}

// ParseArgs parses args (flags only, no operands) as a command with the
// table's flags would, and Parse reads them: the path of every command
// line through the table, for tests and fuzzing.
func (t *Table[C]) ParseArgs(args ...string) (cfg C, err error) {
	app := &cli.App{Flags: t.Flags(), HideHelp: true, Writer: io.Discard, ErrWriter: io.Discard,
		ExitErrHandler: func(*cli.Context, error) {},
		Action: func(c *cli.Context) error {
			cfg, err = t.Parse(c)
			return nil
		}}
	if runErr := app.Run(append([]string{"parse"}, args...)); runErr != nil {
		return t.defaults(), runErr
	}
	return cfg, err
}

// name is how messages name o.
func (t *Table[C]) name(o Option[C]) string {
	if t.naming == ListNaming {
		return o.Name
	}
	return "--" + o.FlagName()
}

// Error is a value an option cannot take.
type Error struct {
	Option string // as the table's messages name it: timeout, --timeout
	Env    string // the environment variable it came from, if it did
	Err    error  // what is wrong with it
}

// Error names the option, its variable if it came from one, and what is
// wrong.
func (e *Error) Error() string {
	if e.Env != "" {
		return fmt.Sprintf("option %s: %v (from $%s)", e.Option, e.Err, e.Env)
	}
	return fmt.Sprintf("option %s: %v", e.Option, e.Err)
}

// Unwrap returns what is wrong with the value.
func (e *Error) Unwrap() error { return e.Err }

// OptionFlag rewrites one item of a -o list, name or name=value, as the
// flag it stands for: "ro" is --ro, "timeout=5s" --timeout=5s. It checks
// the name, and that an option that is no switch has a value; Parse
// checks the value.
func (t *Table[C]) OptionFlag(item string) (string, error) {
	key, value, hasValue := strings.Cut(item, "=")
	o, ok := t.Lookup(key)
	switch {
	case !ok:
		return "", fmt.Errorf("unknown option %q (known: %s)", key, t.names())
	case o.Kind == KindSwitch && value == "":
		return "--" + o.FlagName(), nil
	case !hasValue:
		return "", fmt.Errorf("option %s needs a value: -o %s=…", key, key)
	case value == "":
		return "", fmt.Errorf("option %s needs a value", key)
	}
	return "--" + o.FlagName() + "=" + value, nil
}

// names lists the options' names, sorted.
func (t *Table[C]) names() string {
	names := make([]string, len(t.options))
	for i, o := range t.options {
		names[i] = o.Name
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
