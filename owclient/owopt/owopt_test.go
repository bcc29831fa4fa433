package owopt

import (
	"strings"
	"testing"
	"time"
)

type testConfig struct {
	Request
	On    bool
	D     time.Duration
	N     int
	B     int64
	ID    uint32
	Addr  string
	Text  string
	Quiet bool
}

func testTable(naming Naming) *Table[testConfig] {
	shared := SharedOptions(func(c *testConfig) *Request { return &c.Request })
	return NewTable(naming, func() testConfig { return testConfig{Request: DefaultRequest(), N: 4, On: true} },
		shared.TempScale, shared.PressureScale, shared.Format, shared.Uncached, shared.Timeout,
		Switch("on", "a switch", func(c *testConfig) *bool { return &c.On }),
		Duration("delay", "a `DURATION`", 0, time.Hour, func(c *testConfig) *time.Duration { return &c.D }),
		Whole("count", "`N` things", 1, 64, func(c *testConfig) *int { return &c.N }),
		Size("bytes", "`SIZE` bytes", 1<<20, 1<<30, func(c *testConfig) *int64 { return &c.B }),
		ID("id", "an `ID`", func(c *testConfig) *uint32 { return &c.ID }).WithDefaultText("yours"),
		Address("addr", "an `ADDRESS`", ListenAddress, func(c *testConfig) *string { return &c.Addr }),
		Text("text", "a `FILE`", func(c *testConfig) *string { return &c.Text }).WithEnv(""),
		Switch("quiet", "say nothing", func(c *testConfig) *bool { return &c.Quiet }).WithAliases("q"),
	)
}

// TestKinds: what each kind takes, as what it reads back ("option=value"
// as Get writes it), or the start of its error.
func TestKinds(t *testing.T) {
	table := testTable(FlagNaming)
	for arg, want := range map[string]string{
		"--on=false":               "on=false",
		"--on":                     "on=true",
		"--on=maybe":               `option --on: "maybe" is not true or false`,
		"--delay=1m30s":            "delay=1m30s",
		"--delay=1.5":              "delay=1.5s",
		"--delay=.5":               "delay=500ms",
		"--delay=60":               "delay=1m",
		"--delay=0":                "delay=0s",
		"--delay=-1":               "option --delay: -1 is negative",
		"--delay=-1s":              "option --delay: -1s is negative",
		"--delay=2h":               "option --delay: 2h is above the most, 1h",
		"--delay=3601":             "option --delay: 3601 is above the most, 1h",
		"--delay=1e3":              `option --delay: "1e3" is not a duration`,
		"--delay=Inf":              `option --delay: "Inf" is not a duration`,
		"--delay=0x10":             `option --delay: "0x10" is not a duration`,
		"--delay=1.2.3":            `option --delay: "1.2.3" is not a duration`,
		"--delay=9999999999999999": "option --delay: 9999999999999999 seconds is too long",
		"--count=64":               "count=64",
		"--count=0":                "option --count: 0 is below 1",
		"--count=65":               "option --count: 65 is above the most, 64",
		"--count=1.5":              `option --count: "1.5" is not a whole number`,
		"--bytes=2MiB":             "bytes=2MiB",
		"--bytes=2048K":            "bytes=2MiB",
		"--bytes=1048577":          "bytes=1048577",
		"--bytes=512KB":            "option --bytes: 512KB is below 1MiB",
		"--bytes=2G":               "option --bytes: 2G is above the most, 1GiB",
		"--bytes=lots":             `option --bytes: "lots" is not a size in bytes`,
		"--id=4294967295":          "id=4294967295",
		"--id=4294967296":          `option --id: "4294967296" is not a numeric id (0 to 4294967295)`,
		"--temp-scale=fahrenheit":  "temp_scale=F",
		"--temp-scale=X":           `option --temp-scale: "X" is not one of C, F, K or R`,
		"--format=FIC":             "format=fic",
		"--addr=:9104":             "addr=:9104",
		"--addr=9104":              `option --addr: "9104" is not an address`,
		"--addr=127.0.0.1:99999":   `option --addr: "127.0.0.1:99999" is not an address`,
		"--timeout=0":              "option --timeout: 0 is below 10ms",
		"--timeout=600":            "timeout=10m",
		"--timeout=10m1s":          "option --timeout: 10m1s is above the most, 10m",
		"-q":                       "quiet=true",
	} {
		c, err := table.ParseArgs(arg)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			name := strings.ReplaceAll(strings.TrimLeft(strings.Split(arg, "=")[0], "-"), "-", "_")
			if name == "q" {
				name = "quiet"
			}
			o, _ := table.Lookup(name)
			got = o.Name + "=" + o.Get(c)
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want %q", arg, got, want)
		}
	}
}

// TestParseOrder: the last flag wins; a flag wins over its variable, even
// a bad one; a bad variable that stands is named; an empty one is unset;
// the first bad value is the error, and every good one is read all the
// same.
func TestParseOrder(t *testing.T) {
	table := testTable(ListNaming)
	t.Setenv("OWFUSE_COUNT", "100")
	t.Setenv("OWFUSE_DELAY", "5s")
	t.Setenv("OWFUSE_TEXT", "ignored: no variable")
	t.Setenv("OWFUSE_ON", "")
	c, err := table.ParseArgs("--count=2", "--count=3", "--quiet")
	if err != nil || c.N != 3 || c.D != 5*time.Second || c.Text != "" || !c.On {
		t.Errorf("%+v, %v", c, err)
	}
	c, err = table.ParseArgs("--quiet")
	if err == nil || err.Error() != "option count: 100 is above the most, 64 (from $OWFUSE_COUNT)" || !c.Quiet {
		t.Errorf("%+v, %v", c, err)
	}
}

func TestOptionFlag(t *testing.T) {
	table := testTable(ListNaming)
	for item, want := range map[string]string{
		"on": "--on", "on=": "--on", "on=false": "--on=false", "temp_scale=F": "--temp-scale=F",
		"temp-scale=F": "--temp-scale=F", "delay=5s": "--delay=5s", "text=a=b": "--text=a=b",
		"bogus":   `error: unknown option "bogus" (known: addr, bytes, count, delay, format, id, on, pressure_scale, quiet, temp_scale, text, timeout, uncached)`,
		"delay":   "error: option delay needs a value: -o delay=…",
		"delay=":  "error: option delay needs a value",
		"=":       `error: unknown option ""`,
		"timeout": "error: option timeout needs a value: -o timeout=…",
	} {
		got, err := table.OptionFlag(item)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, want) {
			t.Errorf("OptionFlag(%q) = %q, want %q", item, got, want)
		}
	}
}

// TestDocumentation: what the help and the documentation show of each
// option.
func TestDocumentation(t *testing.T) {
	table := testTable(ListNaming)
	want := map[string][2]string{ // range, default
		"temp_scale": {"one of C, F, K, R", "C"},
		"timeout":    {"duration, 10ms to 10m", "10s"},
		"on":         {"switch", "true"},
		"uncached":   {"switch", "false"},
		"delay":      {"duration, 0s to 1h", "0s"},
		"count":      {"whole number, 1 to 64", "4"},
		"bytes":      {"size in bytes, 1MiB to 1GiB", "0"},
		"id":         {"numeric id", "yours"},
		"addr":       {"address", ""},
		"text":       {"text", ""},
	}
	for _, o := range table.Options() {
		w, ok := want[o.Name]
		if !ok {
			continue
		}
		if o.Range() != w[0] || o.Default() != w[1] {
			t.Errorf("%s: range %q, default %q; want %q, %q", o.Name, o.Range(), o.Default(), w[0], w[1])
		}
	}
	var help []string
	for _, f := range table.Flags() {
		help = append(help, f.String())
	}
	text := strings.Join(help, "\n")
	for _, line := range []string{
		"--on\ta switch (default: true) [$OWFUSE_ON]",
		"--uncached\tevery read asks the 1-Wire bus, bypassing owserver's own cache [$OWFUSE_UNCACHED]",
		"--count N\tN things (default: 4) [$OWFUSE_COUNT]",
		"--text FILE\ta FILE",
		"--quiet, -q\tsay nothing [$OWFUSE_QUIET]",
	} {
		if !strings.Contains(text, line+"\n") && !strings.HasSuffix(text, line) {
			t.Errorf("help lacks %q:\n%s", line, text)
		}
	}
}
