// Package owopt is the typed option table of owfuse's command lines: each
// option's kind, default, bounds and help, from which its flag, its -o
// name, its environment variable, the help and the documentation are
// made, and the one parser of each kind of value that reads them all.
// The settings owfuse's toolbox and its mount share (scales, name format,
// uncached, timeout) are defined here once, as [Request] and
// [SharedOptions].
package owopt

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Kind is the sort of value an option takes; each kind is parsed,
// written and bounded by the same code whatever the option.
type Kind int

// The kinds of option.
const (
	KindSwitch   Kind = iota // on or off: --ro, --ro=false, -o ro
	KindDuration             // 500ms, 2m, or a bare number of seconds
	KindWhole                // a whole number
	KindSize                 // bytes, with an optional unit: 16MiB, 512K
	KindID                   // a numeric user or group id
	KindChoice               // one of a few words
	KindAddress              // a network address
	KindText                 // anything, such as a file name
)

// String names the kind as the documentation does.
func (k Kind) String() string {
	names := [...]string{"switch", "duration", "whole number", "size in bytes", "numeric id", "one of", "address", "text"}
	if k < 0 || int(k) >= len(names) {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return names[k]
}

// Option is one setting of a configuration C: its names, its help, its
// kind and bounds, and where its value lands in C. The constructors
// (Switch, Duration, …) make them; a Table holds them.
type Option[C any] struct {
	Name    string   // with underscores, as in -o lists: temp_scale; the flag is --temp-scale
	Aliases []string // more flag names: "s" for -s
	Help    string   // one line; a `PLACEHOLDER` in backquotes names the value
	Env     string   // the environment variable, OWFUSE_<NAME> by default; "" for none
	// DefaultText describes the default where the value would mislead,
	// such as the uid of whoever reads the help.
	DefaultText string
	Kind        Kind
	Min, Max    string   // the bounds, written as the option takes them; "" when the kind has none
	Choices     []string // what a KindChoice takes

	set func(*C, string) error // parse, check and store
	get func(*C) string        // the value as text
	def string                 // the value in the table's defaults; set by NewTable
}

// FlagName is the option's long flag name: underscores become dashes.
func (o Option[C]) FlagName() string { return strings.ReplaceAll(o.Name, "_", "-") }

// Default is the option's default as text: DefaultText, or its value in
// the defaults of the table it came from ("" before it is in one).
func (o Option[C]) Default() string {
	if o.DefaultText != "" {
		return o.DefaultText
	}
	return o.def
}

// Get returns the option's value in c, as text.
func (o Option[C]) Get(c C) string { return o.get(&c) }

// Range describes the values the option takes, for documentation:
// "duration, 10ms to 10m", "one of C, F, K, R", "switch".
func (o Option[C]) Range() string {
	switch {
	case o.Kind == KindChoice:
		return "one of " + strings.Join(o.Choices, ", ")
	case o.Min != "" && o.Max != "":
		return fmt.Sprintf("%s, %s to %s", o.Kind, o.Min, o.Max)
	}
	return o.Kind.String()
}

// WithAliases returns o with more flag names, such as a one-letter one.
func (o Option[C]) WithAliases(names ...string) Option[C] {
	o.Aliases = append(o.Aliases[:len(o.Aliases):len(o.Aliases)], names...)
	return o
}

// WithHelp returns o with another help text.
func (o Option[C]) WithHelp(help string) Option[C] {
	o.Help = help
	return o
}

// WithNote returns o with a note added to its help, after a semicolon.
func (o Option[C]) WithNote(note string) Option[C] {
	o.Help += "; " + note
	return o
}

// WithEnv returns o read from another environment variable; "" reads
// none.
func (o Option[C]) WithEnv(name string) Option[C] {
	o.Env = name
	return o
}

// WithDefaultText returns o with its default described in words.
func (o Option[C]) WithDefaultText(text string) Option[C] {
	o.DefaultText = text
	return o
}

// codec is how one kind of value is read and written.
type codec[T any] struct {
	kind   Kind
	parse  func(string) (T, error)
	format func(T) string
}

// option makes an Option of one kind; check, when not nil, bounds the
// parsed value.
func option[C, T any](name, help string, k codec[T], check func(text string, v T) error, field func(*C) *T) Option[C] {
	return Option[C]{Name: name, Help: help, Kind: k.kind, Env: "OWFUSE_" + strings.ToUpper(name),
		set: func(c *C, text string) error {
			v, err := k.parse(text)
			if err == nil && check != nil {
				err = check(text, v)
			}
			if err != nil {
				return err
			}
			*field(c) = v
			return nil
		},
		get: func(c *C) string { return k.format(*field(c)) }}
}

// bounded makes an Option of a kind with bounds.
func bounded[C any, T cmp.Ordered](name, help string, k codec[T], min, max T, field func(*C) *T) Option[C] {
	o := option(name, help, k, func(text string, v T) error {
		switch {
		case v < min:
			return fmt.Errorf("%s is below %s", text, k.format(min))
		case v > max:
			return fmt.Errorf("%s is above the most, %s", text, k.format(max))
		}
		return nil
	}, field)
	o.Min, o.Max = k.format(min), k.format(max)
	return o
}

var switchCodec = codec[bool]{KindSwitch,
	func(v string) (bool, error) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%q is not true or false", v)
		}
		return b, nil
	},
	strconv.FormatBool}

// Switch is an option that is on or off: --name, --name=false, -o name.
func Switch[C any](name, help string, field func(*C) *bool) Option[C] {
	return option(name, help, switchCodec, nil, field)
}

var durationCodec = codec[time.Duration]{KindDuration, parseDuration, formatDuration}

// Duration is a length of time, min to max: 500ms, 1m30s, or a bare
// number of seconds, as ow-shell's --timeout takes it.
func Duration[C any](name, help string, min, max time.Duration, field func(*C) *time.Duration) Option[C] {
	return bounded(name, help, durationCodec, min, max, field)
}

// parseDuration reads a duration as Go writes it, or a number of seconds.
func parseDuration(v string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.ParseFloat(v, 64); err == nil && isDecimal(v) {
		if math.Abs(n) >= math.MaxInt64/float64(time.Second) {
			return 0, fmt.Errorf("%s seconds is too long", v)
		}
		d = time.Duration(n * float64(time.Second))
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 500ms, 30s or 2m, or a number of seconds", v)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative", v)
	}
	return d, nil
}

// isDecimal reports whether v is a plain decimal number: digits, one dot,
// a sign; not ParseFloat's "Inf", "0x1p4" or "1e9".
func isDecimal(v string) bool {
	v = strings.TrimLeft(v, "+-")
	return v != "" && v != "." && strings.Count(v, ".") <= 1 && strings.Trim(v, "0123456789.") == ""
}

// formatDuration writes d as a person would: 1h, 1m30s, 500ms.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

var wholeCodec = codec[int]{KindWhole,
	func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", v)
		}
		return n, nil
	},
	strconv.Itoa}

// Whole is a whole number, min to max.
func Whole[C any](name, help string, min, max int, field func(*C) *int) Option[C] {
	return bounded(name, help, wholeCodec, min, max, field)
}

var sizeCodec = codec[int64]{KindSize, parseBytes, formatBytes}

// Size is a number of bytes, min to max, with an optional unit: 16MiB,
// 16M and 16MB are all 16 MiB, as in GOMEMLIMIT.
func Size[C any](name, help string, min, max int64, field func(*C) *int64) Option[C] {
	return bounded(name, help, sizeCodec, min, max, field)
}

// byteUnits are the units a size takes, powers of 1024 whichever spelling.
var byteUnits = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"KB", 10}, {"MB", 20}, {"GB", 30}, {"K", 10}, {"M", 20}, {"G", 30}, {"B", 0}}

// parseBytes reads a size in bytes: a number with an optional unit.
func parseBytes(v string) (int64, error) {
	num, shift := v, uint(0)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = rest, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > 1<<(62-shift) {
		return 0, fmt.Errorf("%q is not a size in bytes (such as 16MiB)", v)
	}
	return n << shift, nil
}

// formatBytes writes n in the largest unit that divides it.
func formatBytes(n int64) string {
	for i := 2; i >= 0; i-- { // GiB, MiB, KiB
		if u := byteUnits[i]; n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

var idCodec = codec[uint32]{KindID,
	func(v string) (uint32, error) {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a numeric id (0 to %d)", v, uint32(math.MaxUint32))
		}
		return uint32(n), nil
	},
	func(n uint32) string { return strconv.FormatUint(uint64(n), 10) }}

// ID is a numeric user or group id.
func ID[C any](name, help string, field func(*C) *uint32) Option[C] {
	return option(name, help, idCodec, nil, field)
}

// Choice is one of values, read by parse (which may take other spellings
// too, such as "celsius" for C) and written by their String method.
func Choice[C any, T fmt.Stringer](name, help string, values []T, parse func(string) (T, error), field func(*C) *T) Option[C] {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = v.String()
	}
	list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	o := option(name, help, codec[T]{KindChoice,
		func(v string) (T, error) {
			t, err := parse(v)
			if err != nil {
				return t, fmt.Errorf("%q is not one of %s", v, list)
			}
			return t, nil
		},
		T.String}, nil, field)
	o.Choices = names
	return o
}

// Address is a network address, checked by check.
func Address[C any](name, help string, check func(string) error, field func(*C) *string) Option[C] {
	return option(name, help, codec[string]{KindAddress,
		func(v string) (string, error) { return v, check(v) },
		func(s string) string { return s }}, nil, field)
}

// ListenAddress checks an address to listen at: host:port or :port.
func ListenAddress(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err == nil && port != "" {
		// A number from 0 to 65535, or a service name: 99999 would pass
		// here and fail only at listen, after the checks.
		_, err = net.LookupPort("tcp", port)
	}
	if err != nil || port == "" {
		return fmt.Errorf("%q is not an address such as 127.0.0.1:9104 or :9104", v)
	}
	return nil
}

// Text is any text, such as a file name.
func Text[C any](name, help string, field func(*C) *string) Option[C] {
	return option(name, help, codec[string]{KindText,
		func(v string) (string, error) { return v, nil },
		func(s string) string { return s }}, nil, field)
}
