package owopt

import (
	"flag"

	"github.com/urfave/cli/v2"
)

// Flag returns the option's flag, for urfave/cli: its names, its help
// with the default and the environment variable, a value for the flags
// that take one. The flag only records the text it is given, last one
// winning; Table.Parse reads and checks it, after the environment.
func (o Option[C]) Flag() cli.Flag {
	f := &optionFlag{names: append([]string{o.FlagName()}, o.Aliases...), usage: o.Help,
		isSwitch: o.Kind == KindSwitch, defaultText: o.Default()}
	if f.isSwitch && f.defaultText == "false" {
		f.defaultText = "" // a switch is off unless given
	}
	if o.Env != "" {
		f.env = []string{o.Env}
	}
	return f
}

// optionFlag is an Option as a cli.Flag: cli shows it in the help and
// parses the command line into its value, and nothing more. It does not
// read its environment variable, as cli's own flags do, so that a bad
// variable is reported as a bad flag is, and only when no flag corrects
// it.
type optionFlag struct {
	names       []string
	usage       string
	env         []string
	defaultText string
	isSwitch    bool
}

// Apply gives every name of the flag the same new value.
func (f *optionFlag) Apply(set *flag.FlagSet) error {
	v := &value{isSwitch: f.isSwitch}
	for _, n := range f.names {
		set.Var(v, n, f.usage)
	}
	return nil
}

func (f *optionFlag) Names() []string  { return f.names }
func (f *optionFlag) IsSet() bool      { return false } // the value knows; see Table.Parse
func (f *optionFlag) String() string   { return cli.FlagStringer(f) }
func (f *optionFlag) TakesValue() bool { return !f.isSwitch }
func (f *optionFlag) GetUsage() string { return f.usage }
func (f *optionFlag) GetValue() string {
	if f.isSwitch {
		return ""
	}
	return f.defaultText
}
func (f *optionFlag) GetDefaultText() string { return f.defaultText }
func (f *optionFlag) GetEnvVars() []string   { return f.env }
func (f *optionFlag) IsVisible() bool        { return true }
func (f *optionFlag) GetCategory() string    { return "" }

// value is the text a flag was given last.
type value struct {
	text     string
	given    bool
	isSwitch bool
}

func (v *value) Set(s string) error { v.text, v.given = s, true; return nil }
func (v *value) String() string     { return v.text }

// IsBoolFlag makes a switch's flag take no value unless one is attached
// (--ro, --ro=false), as Go's flag package reads it.
func (v *value) IsBoolFlag() bool { return v.isSwitch }
