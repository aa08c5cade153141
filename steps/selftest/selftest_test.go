package selftest

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/features"
	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// faultCall finds the fault names the reference switches on; faultConst
// finds the names the role checks' faults (reference/*/faults.go) declare
// as constants. Those have their own tables beside the role checks, so
// only the literal calls must all be in this catalogue.
var (
	faultCall  = regexp.MustCompile(`fault\.On\("([^"]+)"\)`)
	faultConst = regexp.MustCompile(`(?m)^\s*Fault\w+\s*=\s*"([^"]+)"`)
)

// TestFaultsMatchTheSource keeps the catalogue honest: every fault it names
// is a branch in the reference's code, and every branch is in the catalogue.
func TestFaultsMatchTheSource(t *testing.T) {
	inSource := map[string][]string{}
	declared := map[string]bool{}
	err := filepath.WalkDir("../../reference", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range faultCall.FindAllStringSubmatch(string(b), -1) {
			inSource[m[1]] = append(inSource[m[1]], path)
		}
		if filepath.Base(path) == "faults.go" {
			for _, m := range faultConst.FindAllStringSubmatch(string(b), -1) {
				declared[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range Faults {
		if names[f.Name] {
			t.Errorf("fault %s is listed twice", f.Name)
		}
		names[f.Name] = true
		if len(inSource[f.Name]) == 0 && !declared[f.Name] {
			t.Errorf("fault %s is in the catalogue but no fault.On(%q) in reference/ switches it on", f.Name, f.Name)
		}
	}
	for name, files := range inSource {
		if !names[name] {
			t.Errorf("fault.On(%q) in %s is missing from the catalogue (steps/selftest/faults.go)", name, strings.Join(files, ", "))
		}
	}
	if len(Faults) < 60 {
		t.Errorf("only %d faults; the self-test wants at least 60", len(Faults))
	}
}

// TestFaultCatalogue checks each entry: a description, an area, a level,
// and a section the requirements catalogue knows at that level or above.
func TestFaultCatalogue(t *testing.T) {
	reqs, err := features.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	// A section may have entries at both levels (a provider's and a
	// client's rule); it counts at its highest.
	levels := map[string]string{}
	for _, r := range reqs {
		if levels[r.Tag] != string(MUST) {
			levels[r.Tag] = r.Level
		}
	}
	for _, f := range Faults {
		if f.Description == "" || f.Area == "" {
			t.Errorf("fault %s lacks a description or an area", f.Name)
		}
		if f.Level != MUST && f.Level != SHOULD {
			t.Errorf("fault %s has level %q (MUST or SHOULD)", f.Name, f.Level)
		}
		lvl, ok := levels[f.Spec]
		switch {
		case !ok:
			t.Errorf("fault %s cites %s, which features/requirements.yaml lacks", f.Name, f.Spec)
		case f.Level == MUST && lvl != string(MUST):
			t.Errorf("fault %s is MUST but %s is a %s in features/requirements.yaml", f.Name, f.Spec, lvl)
		}
	}
}

// TestJudge: a fault is caught only by a change at its own level.
func TestJudge(t *testing.T) {
	run := func(st ...report.Status) *suiteRun {
		r := &suiteRun{status: map[string]report.Status{}}
		for i, s := range st {
			k := "s" + strconv.Itoa(i)
			r.order = append(r.order, k)
			r.status[k] = s
		}
		return r
	}
	p, f, w := report.StatusPassed, report.StatusFailed, report.StatusWarning
	base := run(p, f, w, p, p)
	got := run(f, f, w, w, p)
	caught, other := judge(MUST, base, got)
	if !slices.Equal(caught, []string{"s0"}) || !slices.Equal(other, []string{"s3"}) {
		t.Errorf("MUST: caught %v, other %v; want [s0] (s1 failed in the baseline too), other [s3]", caught, other)
	}
	caught, other = judge(SHOULD, base, got)
	if !slices.Equal(caught, []string{"s3"}) || !slices.Equal(other, []string{"s0"}) {
		t.Errorf("SHOULD: caught %v, other %v; want [s3] (s2 warned in the baseline too), other [s0]", caught, other)
	}
}

// TestReadJUnit reads the statuses from a report the suite writes.
func TestReadJUnit(t *testing.T) {
	r := report.New("self-test", "https://issuer.example")
	for _, c := range []struct {
		name string
		tags []string
		err  error
	}{{"passes", nil, nil}, {"fails", nil, os.ErrInvalid}, {"warns", []string{"@should"}, os.ErrInvalid}} {
		s := r.Start(c.name, "Feature", c.tags)
		s.Finish(c.err)
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := r.WriteJUnit(path); err != nil {
		t.Fatal(err)
	}
	run, err := readJUnit(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]report.Status{"Feature: passes": report.StatusPassed, "Feature: fails": report.StatusFailed, "Feature: warns": report.StatusWarning}
	for k, st := range want {
		if run.status[k] != st {
			t.Errorf("%s: status %q, want %q (all: %v)", k, run.status[k], st, run.status)
		}
	}
}

// TestSelfTest runs the whole suite once against the reference and once per
// fault, and writes the kill table. It takes minutes, so "make test" skips
// it; "make selftest" runs it, and fails on a fault the suite misses.
// OAUTHTRIO_SELFTEST_FAULTS (comma separated, or one-per-area for the first
// fault of each area) runs only some faults, OAUTHTRIO_SELFTEST_PARALLEL sets the suite runs at
// a time (default 4), OAUTHTRIO_SELFTEST_REPORT the report directory, and
// OAUTHTRIO_SELFTEST_CONFIRM=0 counts a catch without its second run.
func TestSelfTest(t *testing.T) {
	if os.Getenv("OAUTHTRIO_SELFTEST") != "1" {
		t.Skipf("the self-test runs the whole suite %d times (the reference, then each fault); run it with make selftest", len(Faults)+1)
	}
	if _, err := browser.FindChromium(); err != nil {
		t.Fatalf("the self-test needs Chromium (apt-get install -y chromium); without it no fault could be caught: %v", err)
	}
	dir := os.Getenv("OAUTHTRIO_SELFTEST_REPORT")
	if dir == "" {
		dir = t.TempDir()
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "oauthtrio")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "../../cmd/oauthtrio")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building oauthtrio: %v\n%s", err, out)
	}
	faults := Faults
	if names := os.Getenv("OAUTHTRIO_SELFTEST_FAULTS"); names == "one-per-area" {
		faults = OnePerArea(Faults)
	} else if names != "" {
		faults = slices.DeleteFunc(slices.Clone(Faults), func(f Fault) bool { return !slices.Contains(strings.Split(names, ","), f.Name) })
		if len(faults) == 0 {
			t.Fatalf("OAUTHTRIO_SELFTEST_FAULTS=%s names no fault of the catalogue", names)
		}
	}
	parallel, _ := strconv.Atoi(os.Getenv("OAUTHTRIO_SELFTEST_PARALLEL"))
	noConfirm := os.Getenv("OAUTHTRIO_SELFTEST_CONFIRM") == "0"
	res, err := Run(context.Background(), Options{Binary: bin, ReportDir: dir, Parallel: parallel, Progress: testWriter{t}, NoConfirm: noConfirm}, faults)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.WriteKillTable(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kill-rate.txt"), []byte(res.KillRate()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Every fault in the set breaks a rule the suite checks: a miss is the
	// suite's failure.
	for _, o := range res.Outcomes {
		if !o.Caught() {
			t.Errorf("missed: %s (%s %s) %s %s", o.Fault.Name, o.Fault.Level, o.Fault.Spec, o.Fault.Description, o.Error)
		}
	}
	if len(res.BaselineFailed) > 0 {
		t.Errorf("the reference without faults fails MUST scenarios: %s", strings.Join(res.BaselineFailed, "; "))
	}
	t.Logf("kill table: %s", filepath.Join(dir, "kill-table.md"))
	t.Log(res.KillRate())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
