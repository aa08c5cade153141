package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/oauthtrio/oauthtrio/steps/report"
)

var reportMergeCommand = command{
	name:     "report merge",
	synopsis: "[--out DIR] DIR...",
	summary:  "merge the reports of the shards of one run into one",
	details: `Each DIR is the --report directory of one "oauthtrio check --shard K/N" run
(it holds results.json). The merged report.html, junit.xml, cucumber.json
and results.json go to --out, with the counts and summary the whole run
would have had; the shards' artifacts are copied beside them. The shards
must have tested the same issuer with the same features, each once.

Exit status: 0 when no MUST scenario failed, 1 when one did, 2 on a usage
error or reports that cannot be merged, 130 when a shard was interrupted.`,
	examples: `oauthtrio report merge --out reports/all reports/shard-1 reports/shard-2 reports/shard-3
oauthtrio report merge --out merged shard-*`,
}

// reportCmd dispatches the report subcommands.
func reportCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return reportMerge(args[1:], stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, "Usage:\n  oauthtrio report merge [--out DIR] DIR...")
		return 0
	}
	fmt.Fprintln(stderr, "oauthtrio report: want a subcommand: merge\nUsage:\n  oauthtrio report merge [--out DIR] DIR...")
	return exitUsage
}

func reportMerge(args []string, stdout, stderr io.Writer) int {
	c := reportMergeCommand
	fs := c.newFlagSet(stderr)
	out := fs.String("out", "reports", "directory for the merged report.html, junit.xml, cucumber.json and results.json")
	dirs, status, ok := c.parse(fs, args, stdout, stderr)
	if !ok {
		return status
	}
	if len(dirs) == 0 {
		return c.usageError(stderr, "no report directory to merge")
	}
	reports := make([]*report.Report, len(dirs))
	for i, dir := range dirs {
		r, err := report.Load(dir)
		if err != nil {
			fmt.Fprintf(stderr, "oauthtrio report merge: %v\n", err)
			return exitUsage
		}
		reports[i] = r
	}
	merged, err := report.Merge(dirs, reports)
	if err != nil {
		fmt.Fprintf(stderr, "oauthtrio report merge: %v\n", err)
		return exitUsage
	}
	if merged.Target != reports[0].Target {
		fmt.Fprintf(stderr, "oauthtrio report merge: the reports tested different targets (%s); right for shards that each started the reference, wrong for shards of different issuers\n", merged.Target)
	}
	if err := merged.WriteAll(*out); err != nil {
		fmt.Fprintf(stderr, "oauthtrio report merge: --out %s: %v\n", *out, err)
		return exitUsage
	}
	for _, dir := range dirs {
		if err := copyArtifacts(dir, *out); err != nil {
			fmt.Fprintf(stderr, "oauthtrio report merge: %v\n", err)
			return exitUsage
		}
	}
	merged.Summary(stdout)
	fmt.Fprintf(stdout, "Reports: %s\n", filepath.Join(*out, "report.html"))
	switch {
	case merged.Interrupted() != "":
		return exitInterrupted
	case merged.Failed():
		return 1
	}
	return 0
}

// copyArtifacts copies a shard's artifacts (screenshots and pages of failed
// browser steps, named by time) into the merged report's.
func copyArtifacts(dir, out string) error {
	src := filepath.Join(dir, "artifacts")
	dst := filepath.Join(out, "artifacts")
	if filepath.Clean(src) == filepath.Clean(dst) {
		return nil
	}
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		return fmt.Errorf("copying the artifacts of %s: %w", dir, err)
	}
	return nil
}
