package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
)

// exitUsage is the exit status of a usage error, for every command.
const exitUsage = 2

// command describes a subcommand for its -h text.
type command struct {
	name     string
	synopsis string // after "oauthtrio NAME"
	summary  string // one line
	details  string // paragraphs after the summary, may be empty
	examples string // one per line
}

// newFlagSet makes a flag set whose errors go to stderr and whose -h is
// handled by parse.
func (c command) newFlagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parse prints the usage itself, to the right stream
	return fs
}

// usage writes the command's help text.
func (c command) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "oauthtrio %s: %s\n\nUsage:\n  oauthtrio %s %s\n", c.name, c.summary, c.name, c.synopsis)
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.details))
	}
	fmt.Fprintf(w, "\nFlags:\n")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, l := range strings.Split(strings.TrimSpace(c.examples), "\n") {
			fmt.Fprintf(w, "  %s\n", strings.TrimSpace(l))
		}
	}
}

// parse parses args, flags and arguments in any order (as cucumber's
// command line takes them; "--" ends the flags). It returns the arguments
// and ok when the command should go on; else the exit status: 0 after -h
// (help on stdout), exitUsage after a mistake (the message, a suggestion
// and a pointer to -h on stderr).
func (c command) parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (rest []string, status int, ok bool) {
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			c.usage(stdout, fs)
			return nil, 0, false
		case err != nil:
			// flag has printed the error already.
			if name, found := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); found {
				var names []string
				fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
				if s := nearest(strings.TrimLeft(name, "-"), names); s != "" {
					fmt.Fprintf(stderr, "did you mean --%s?\n", s)
				}
			}
			fmt.Fprintf(stderr, "Run 'oauthtrio %s -h' for usage.\n", c.name)
			return nil, exitUsage, false
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, 0, true
		}
		if consumed := len(args) - len(left); consumed > 0 && args[consumed-1] == "--" {
			return append(rest, left...), 0, true
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

// usageError prints a usage mistake of a command and returns exitUsage.
func (c command) usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "oauthtrio %s: %s\nRun 'oauthtrio %s -h' for usage.\n", c.name, fmt.Sprintf(format, args...), c.name)
	return exitUsage
}

// nearest returns the candidate closest to s, when it is close enough to
// be what was meant: two edits, or a third of its letters, at most.
func nearest(s string, candidates []string) string {
	best, bestD := "", -1
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		d := levenshtein.ComputeDistance(s, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// version is the module version and VCS revision from the build info.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "oauthtrio (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	out := "oauthtrio " + v
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev != "" {
		out += fmt.Sprintf(" (revision %s%s%s)", rev, map[bool]string{true: ", " + at}[at != ""], dirty)
	} else {
		out += " (no VCS revision: built outside a checkout or with -buildvcs=false)"
	}
	return out + ", " + bi.GoVersion
}
