package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/urfave/cli/v2"

	"github.com/owfuse/owfuse/owclient/owopt"
	"github.com/owfuse/owfuse/owclient/owshell"
	"github.com/owfuse/owfuse/owfs/mountlib"
)

// manCommand prints the man pages, owfuse(8) and mount.owfuse(8), made
// from the same commands and option table as the help; `make install`
// installs them.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:      "man",
		Usage:     "print a man page in roff: owfuse(8) (default) or mount.owfuse(8); make install installs both",
		ArgsUsage: "[owfuse|mount.owfuse]",
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return owshell.UsageErrorf("man takes one page name, got %q", c.Args().Slice())
			}
			var page string
			switch c.Args().First() {
			case "", "owfuse":
				page = ownManPage(newApp("owfuse", io.Discard, io.Discard))
			case "mount.owfuse":
				page = helperManPage()
			default:
				return owshell.UsageErrorf("no man page %q (owfuse or mount.owfuse)", c.Args().First())
			}
			_, err := c.App.Writer.Write(md2man.Render([]byte(page)))
			return err
		},
	}
}

// unquote splits a usage text into its `PLACEHOLDER` and the text without
// backquotes, as cli's help reads it.
func unquote(usage string) (placeholder, text string) {
	if _, rest, ok := strings.Cut(usage, "`"); ok {
		if name, _, ok := strings.Cut(rest, "`"); ok {
			return name, strings.ReplaceAll(usage, "`", "")
		}
	}
	return "", usage
}

// manFlag writes one flag as a man page definition list entry.
func manFlag(b *strings.Builder, f cli.Flag) {
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return
	}
	if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
		return
	}
	placeholder, text := unquote(d.GetUsage())
	var names []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			names = append(names, `**-`+n+`**`)
		} else {
			names = append(names, `**--`+n+`**`)
		}
	}
	b.WriteString(strings.Join(names, ", "))
	if d.TakesValue() {
		if placeholder == "" {
			placeholder = "VALUE"
		}
		b.WriteString(" *" + placeholder + "*")
	}
	b.WriteString("\n: " + manEscape(strings.ReplaceAll(text, "…", "...")))
	if def := d.GetDefaultText(); def != "" && d.TakesValue() {
		b.WriteString(" (default: " + manEscape(def) + ")")
	}
	if env := d.GetEnvVars(); len(env) > 0 {
		b.WriteString(" [$" + strings.Join(env, ", $") + "]")
	}
	b.WriteString("\n\n")
}

// manEscape keeps markdown from reading option names as emphasis.
func manEscape(s string) string {
	return strings.NewReplacer("_", `\_`, "*", `\*`).Replace(s)
}

// manOptions writes the mount options as -o names, from mountlib.Settings.
func manOptions(b *strings.Builder) {
	for _, o := range mountlib.Settings().Options() {
		placeholder, text := unquote(o.Help)
		b.WriteString("**" + manEscape(o.Name) + "**")
		if o.Kind != owopt.KindSwitch {
			b.WriteString("=*" + placeholder + "*")
		}
		b.WriteString("\n: " + manEscape(text))
		if def := o.Default(); def != "" && def != "false" {
			b.WriteString(" (default: " + manEscape(def) + ")")
		}
		b.WriteString(". Also **--" + o.FlagName() + "**")
		if o.Env != "" {
			b.WriteString(" and $" + manEscape(o.Env))
		}
		b.WriteString(".\n\n")
	}
}

// ownManPage is owfuse(8): every verb with its options, the mount options,
// fstab, signals, exit codes and the threat model.
func ownManPage(app *cli.App) string {
	var b strings.Builder
	b.WriteString("% OWFUSE 8\n\n# NAME\n\nowfuse - " + app.Usage + "\n\n# SYNOPSIS\n\n")
	b.WriteString("**owfuse mount** [*OPTIONS*] *SERVER* *MOUNTPOINT* [**-o** *OPTION*[,*OPTION*...]]\n\n")
	b.WriteString("**owfuse** **dir**|**read**|**write**|**get**|**present**|**ping** [*OPTIONS*] [*PATH*...]\n\n")
	b.WriteString("**owdir**|**owread**|**owwrite**|**owget**|**owpresent** [*OPTIONS*] [*PATH*...]\n\n")
	b.WriteString(`# DESCRIPTION

**owfuse mount** serves the tree of OWFS's owserver, the 1-Wire bus daemon, at *MOUNTPOINT*: a directory per device, a file per property, read and written with any program. *SERVER* is host:port, host (port 4304) or a port on localhost. Values are cached for lifetimes that depend on how often they change (see the \_ttl options). The command stays in the foreground until the filesystem is unmounted or a signal ends it; with **--daemon**, or as **mount.owfuse**(8), it returns once the mount answers.

The other verbs are ow-shell's tools: **dir**, **read**, **write**, **get** and **present** print what **owdir**, **owread**, **owwrite**, **owget** and **owpresent** print for the same server and paths, byte for byte. Called by those names (a link to owfuse), owfuse behaves as those programs do, with their options. Options go anywhere on the line: before or after the verb, and between paths; **--** ends them, and a negative number is a value, not an option.

**-h**, **--help** after any verb prints its help, and **owfuse help** *VERB* the same; **-V**, **--version** prints the version.

ow-shell's long forms are taken too: **--Celsius**, **--Fahrenheit**, **--Kelvin**, **--Rankine** (for **-C**, **-F**, **-K**, **-R**), **--mbar**, **--atm**, **--mmHg**, **--inHg**, **--psi**, **--Pa** (for **--pressure-scale**) and **--hexadecimal** (for **--hex**); every long option may be shortened to an unambiguous prefix, as with GNU getopt. A failing path is reported and the next one tried, as ow-shell does; under ow-shell's names the exit status is that of the last path, and only 0 or 1.

# COMMANDS

`)
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n**owfuse %s** %s\n\n%s.\n\n", c.Name, c.Name, manEscape(c.ArgsUsage), manEscape(c.Usage))
		if c.Name == "man" || c.Name == "ping" && len(c.Flags) == len(owshell.ServerFlags()) {
			continue
		}
		if c.Name == "mount" {
			b.WriteString("Each mount option is also a flag (underscores become dashes) and an environment variable; see MOUNT OPTIONS. **-o** takes a comma-separated list of them.\n\n")
			continue
		}
		if c.Name == "dir" {
			b.WriteString("Options of every toolbox verb:\n\n")
			for _, f := range owshell.ServerFlags() {
				manFlag(&b, f)
			}
			b.WriteString("Options of dir:\n\n")
		}
		own := c.Flags[len(owshell.ServerFlags()):]
		if len(own) > 0 && c.Name != "dir" {
			fmt.Fprintf(&b, "Options of %s:\n\n", c.Name)
		}
		for _, f := range own {
			manFlag(&b, f)
		}
	}
	b.WriteString("# MOUNT OPTIONS\n\n")
	manOptions(&b)
	b.WriteString(`# FILES

**/etc/fstab**
: a line such as *localhost:4304 /mnt/1wire owfuse \_netdev,nofail,allow\_other,wait\_server=60s 0 0* mounts at boot; see **mount.owfuse**(8).

# SIGNALS

SIGINT and SIGTERM unmount and exit 0; calls still waiting for owserver end with EIO, and a busy mount is detached lazily, with a log line. SIGHUP drops every cache.

# EXIT STATUS

0 success; 1 owserver refused the request or sent nonsense, or the mount failed; 3 **present**: a path is absent; 64 usage: unknown verb or option, bad value, missing argument; 69 owserver unreachable or the connection dropped; 75 owserver did not answer within the timeout. As **mount.owfuse** the codes are mount(8)'s: 1 usage, 32 mount failure.

# SECURITY

The owserver protocol has no authentication and no encryption: whoever reaches its port reads every sensor and writes every writable property. Keep owserver on loopback or behind a firewall, or tunnel it over SSH. owfuse treats owserver as untrusted: malformed or oversized replies are errors, and memory stays bounded. Only the user who mounted can use the mount unless **allow\_other** is given; then the kernel checks the modes owfuse shows (only **uid** may write). Use **ro** when nobody should write.

# SEE ALSO

**mount.owfuse**(8), **owserver**(1), **owdir**(1), **mount**(8), **fuse**(8)
`)
	return b.String()
}

// helperManPage is mount.owfuse(8): mount(8)'s view of owfuse.
func helperManPage() string {
	var b strings.Builder
	b.WriteString(`% MOUNT.OWFUSE 8

# NAME

mount.owfuse - mount OWFS's owserver with mount(8) and /etc/fstab

# SYNOPSIS

**mount -t owfuse** *SERVER* *MOUNTPOINT* [**-o** *OPTION*[,*OPTION*...]]

**mount -t fuse.owfuse** *SERVER* *MOUNTPOINT* [**-o** *OPTION*[,*OPTION*...]]

**mount.owfuse** *SERVER* *MOUNTPOINT* [**-s**] [**-n**] [**-v**] [**-f**] [**-o** *OPTIONS*]

# DESCRIPTION

mount(8) runs **mount.owfuse** for **-t owfuse**; for **-t fuse.owfuse** mount.fuse3 runs *owfuse SERVER MOUNTPOINT -o OPTIONS*. Either way owfuse checks the options, waits until the mount answers and returns, leaving a detached process that serves it and logs to syslog (or **log\_file**). Relative paths are taken from the caller's directory. **-f** (mount's fake mode) checks the options and mounts nothing; **-s**, **-n** and **-v** are accepted.

*SERVER* is host:port, host (port 4304) or a port on localhost. **umount** *MOUNTPOINT* unmounts.

# FSTAB

    localhost:4304  /mnt/1wire  owfuse  _netdev,nofail,allow_other,wait_server=60s  0  0

**wait\_server** waits for owserver at boot; **lazy\_connect** mounts at once and answers EIO until owserver does; **\_netdev** orders the mount after the network and **nofail** keeps the boot going if it fails.

# OPTIONS

mount(8)'s own options (` + manEscape(strings.Join(mountlib.IgnoredOptions(), ", ")) + `) are accepted and ignored; **rw** undoes **ro**. An unknown option fails the mount with its name.

`)
	manOptions(&b)
	b.WriteString(`# EXIT STATUS

0 mounted; 1 incorrect invocation (an unknown option, a bad value); 32 mount failure (owserver unreachable, no such mountpoint, no FUSE), as mount(8) expects of a helper.

# SIGNALS

SIGTERM or SIGINT to the serving process unmounts; SIGHUP drops every cache.

# SECURITY

owserver has no authentication: keep it on loopback or behind a firewall. Without **allow\_other** only the user who mounted can use the mount.

# SEE ALSO

**owfuse**(8), **mount**(8), **fstab**(5), **mount.fuse3**(8)
`)
	return b.String()
}
