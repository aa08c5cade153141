package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/internal/devtoolstest"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// The README's sharding commands, run as written (their reports in a
// temporary directory): check --shard runs parts of the selection,
// balanced by the whole run's durations, and report merge joins their
// reports into one that counts what the whole run does.
func TestCheckShardsMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scenarios against the reference trio; skipped with -short")
	}
	var block string
	for _, b := range codeBlocks(t, readRepoFile(t, "README.md"), "sh") {
		if strings.Contains(b, "report merge") {
			block = b
		}
	}
	dir := t.TempDir()
	counts := regexp.MustCompile(`\d+ scenarios: [^\n]*`)
	var summaries []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		args, ok := strings.CutPrefix(line, "go run ./cmd/oauthtrio ")
		if !ok {
			t.Fatalf("README: %q is not an oauthtrio command", line)
		}
		args = strings.ReplaceAll(args, "reports/", dir+"/")
		var stdout, stderr bytes.Buffer
		if code := run(strings.Fields(args), &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", line, code, stdout.String(), stderr.String())
		}
		summaries = append(summaries, counts.FindString(stdout.String()))
	}
	if len(summaries) != 4 {
		t.Fatalf("README block: %d commands, want the whole run, two shards and the merge:\n%s", len(summaries), block)
	}
	whole, first, second, merged := summaries[0], summaries[1], summaries[2], summaries[3]
	if whole == "" || first == whole || second == whole {
		t.Errorf("the shards ran what the whole run did: %q, %q, %q", whole, first, second)
	}
	if merged != whole {
		t.Errorf("merged: %q, the whole run: %q", merged, whole)
	}
	for _, name := range []string{"report.html", "junit.xml", "cucumber.json", report.ResultsFile} {
		if _, err := os.Stat(filepath.Join(dir, "merged", name)); err != nil {
			t.Errorf("the merged report: %v", err)
		}
	}
}

// report merge exits 1 when a merged shard failed a MUST, as check does.
func TestReportMergeExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, fail bool) string {
		r := report.New("oauthtrio conformance report", "https://idp.example.org")
		s := r.Start(name, "Feature", []string{"@RFC6749-4.1.2"})
		var err error
		if fail {
			err = errors.New("state was not echoed")
			s.Step("Then", "state is echoed", report.StepFailed, err, 0)
		}
		s.Finish(err)
		d := filepath.Join(dir, name)
		if err := r.WriteAll(d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	passed, failed := write("passes", false), write("fails", true)
	for _, tt := range []struct {
		dirs []string
		code int
		want string
	}{
		{[]string{passed}, 0, "Result: PASSED"},
		{[]string{passed, failed}, 1, "Result: FAILED (1 MUST-level failures)"},
		{[]string{passed, passed}, 2, "is in both"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"report", "merge", "--out", t.TempDir()}, tt.dirs...), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.want) {
			t.Errorf("merge %v: exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", tt.dirs, code, tt.code, tt.want, stdout.String(), stderr.String())
		}
	}
}

// check --browser-url runs the browser scenarios in a Chromium that runs
// already, started here with a DevTools port: the login flow passes, the
// remote browser shows the issuer's pages, and the local Chromium (a path
// that cannot run) is never started.
func TestCheckRemoteBrowser(t *testing.T) {
	remote := devtoolstest.Start(t)
	var stdout, stderr bytes.Buffer
	args := []string{"--browser-url", remote.HTTP, "--chromium", "/nonexistent/chromium", "--report", t.TempDir(), "features/authorization_code.feature:11"}
	if code := check(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 scenarios: 1 passed") {
		t.Errorf("the login flow did not pass:\n%s", stdout.String())
	}
	if !slices.ContainsFunc(remote.Visited(), func(u string) bool { return strings.Contains(u, "/authserver/oauth2/") }) {
		t.Errorf("the remote browser showed no page of the issuer: %v", remote.Visited())
	}
}
