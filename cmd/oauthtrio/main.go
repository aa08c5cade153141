// Command oauthtrio runs the reference OAuth 2.0 / OpenID Connect trio
// (serve) and the conformance suite against an issuer (check).
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `oauthtrio: an OAuth 2.0 / OpenID Connect conformance suite and reference trio

Usage:
  oauthtrio serve [flags]       run the reference trio behind one HTTPS front
  oauthtrio rotate-key [flags]  add a new signing key; the old one stays published
  oauthtrio check [flags] [FILE.feature[:LINE] ...]
                                run the conformance suite against an issuer
  oauthtrio report merge [--out DIR] DIR...
                                merge the reports of check --shard runs
  oauthtrio version             print the version and VCS revision

Run "oauthtrio <command> -h" for the flags and examples of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "rotate-key":
		return rotateKey(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "report":
		return reportCmd(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "oauthtrio: unknown command %q", args[0])
		if s := nearest(args[0], []string{"serve", "rotate-key", "check", "report", "version", "help"}); s != "" {
			fmt.Fprintf(stderr, " (did you mean %s?)", s)
		}
		fmt.Fprintf(stderr, "\n\n%s", usage)
		return exitUsage
	}
}
