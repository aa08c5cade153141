package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// exampleWorkflow is the example workflow the README shows.
const exampleWorkflow = "fixtures/ci/github-workflow.yml"

// codeBlocks returns the fenced blocks of a Markdown text in the given
// language.
func codeBlocks(t *testing.T, markdown, lang string) []string {
	t.Helper()
	re := regexp.MustCompile("(?ms)^```" + lang + "\n(.*?)^```\n")
	var out []string
	for _, m := range re.FindAllStringSubmatch(markdown, -1) {
		out = append(out, m[1])
	}
	return out
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// shellcheck returns the shellcheck executable, or skips the part of a
// test that needs it (fails under OAUTHTRIO_REQUIRE_PEERS=1, as in CI).
func shellcheck(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv(requireClientsEnv) == "1" {
			t.Fatalf("shellcheck is not installed and %s=1 (make setup installs it)", requireClientsEnv)
		}
		t.Logf("shellcheck is not installed: scripts are not checked (make setup installs it)")
		return ""
	}
	return p
}

// The workflows the README shows (the example file among them, verbatim)
// pass actionlint, with shellcheck on their scripts. With the action taken
// from this checkout (uses: ./), actionlint also checks the inputs the
// example passes against action.yml; a misspelt input is caught.
func TestGitHubWorkflowsLint(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	example := readRepoFile(t, exampleWorkflow)
	var workflows []string
	for _, b := range codeBlocks(t, readme, "yaml") {
		if strings.Contains(b, "\njobs:") {
			workflows = append(workflows, b)
		}
	}
	if !slices.Contains(workflows, example) {
		t.Errorf("README.md does not show %s verbatim in a yaml block", exampleWorkflow)
	}
	if len(workflows) < 2 {
		t.Errorf("README.md shows %d workflows; want the single-issuer one and the matrix", len(workflows))
	}

	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	project, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{Shellcheck: shellcheck(t), WorkingDir: root})
	if err != nil {
		t.Fatal(err)
	}
	lint := func(name, content string) []*actionlint.Error {
		t.Helper()
		errs, err := linter.Lint(name, []byte(content), project)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return errs
	}
	local := regexp.MustCompile(`uses: oauthtrio/oauthtrio@\S+`)
	for i, w := range workflows {
		if !local.MatchString(w) {
			t.Errorf("README workflow %d does not use the action", i+1)
		}
		for _, variant := range []string{w, local.ReplaceAllString(w, "uses: ./")} {
			for _, e := range lint("README workflow", variant) {
				t.Errorf("README workflow %d: %s", i+1, e.Error())
			}
		}
	}

	misspelt := strings.Replace(local.ReplaceAllString(example, "uses: ./"), "report-dir:", "reports-dir:", 1)
	if errs := lint("misspelt", misspelt); !slices.ContainsFunc(errs, func(e *actionlint.Error) bool { return strings.Contains(e.Message, "reports-dir") }) {
		t.Errorf("actionlint did not catch an undeclared input of the action: %v", errs)
	}
}

// actionYAML is what the test reads of action.yml.
type actionYAML struct {
	Name   string `yaml:"name"`
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			Name  string            `yaml:"name"`
			ID    string            `yaml:"id"`
			If    string            `yaml:"if"`
			Uses  string            `yaml:"uses"`
			Shell string            `yaml:"shell"`
			Run   string            `yaml:"run"`
			Env   map[string]string `yaml:"env"`
			With  map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// actionlint reads a composite action's metadata only for the inputs a
// workflow passes, so action.yml's own structure is checked here: every
// input it uses is declared and every declared one used, with a
// description and a default; every run step names its shell and passes
// shellcheck; inputs reach scripts only through env (no expression in a
// script, which would let an input inject commands); the flags it gives
// oauthtrio check exist; the report is uploaded even when the check fails.
func TestActionMetadata(t *testing.T) {
	raw := readRepoFile(t, "action.yml")
	var a actionYAML
	if err := yaml.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	if a.Runs.Using != "composite" || len(a.Runs.Steps) == 0 {
		t.Fatalf("runs.using %q with %d steps; want a composite action", a.Runs.Using, len(a.Runs.Steps))
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}|inputs\.([A-Za-z0-9_-]+)`).FindAllStringSubmatch(raw, -1) {
		used[m[1]+m[2]] = true
	}
	for name := range used {
		if _, ok := a.Inputs[name]; !ok {
			t.Errorf("action.yml uses inputs.%s, which it does not declare", name)
		}
	}
	for name, in := range a.Inputs {
		if !used[name] {
			t.Errorf("action.yml declares input %s and never uses it", name)
		}
		if in.Description == "" || in.Default == nil {
			t.Errorf("input %s needs a description and a default", name)
		}
	}

	var checkHelp, stderr bytes.Buffer
	if code := run([]string{"check", "-h"}, &checkHelp, &stderr); code != 0 {
		t.Fatalf("check -h: exit %d", code)
	}
	sc := shellcheck(t)
	uploads := false
	for _, st := range a.Runs.Steps {
		if st.Run == "" {
			if st.Uses == "" || !regexp.MustCompile(`^actions/[a-z-]+@v\d+$`).MatchString(st.Uses) {
				t.Errorf("step %q uses %q; want an actions/* action at a major version", st.Name, st.Uses)
			}
			if strings.HasPrefix(st.Uses, "actions/upload-artifact@") {
				uploads = st.If == "always()" && st.With["path"] == "${{ inputs.report-dir }}"
			}
			continue
		}
		if st.Shell != "bash" {
			t.Errorf("step %q: shell %q; a composite run step must name its shell (bash)", st.Name, st.Shell)
		}
		if strings.Contains(st.Run, "${{") {
			t.Errorf("step %q: an expression in the script; pass inputs through env", st.Name)
		}
		flags := regexp.MustCompile(`[( ]--([a-z][a-z-]+)[ )]`).FindAllStringSubmatch(st.Run, -1)
		if st.ID == "check" && len(flags) < 5 {
			t.Errorf("step %q passes %d flags to oauthtrio check; the test read nothing", st.Name, len(flags))
		}
		for _, flag := range flags {
			if st.ID != "check" {
				break
			}
			if !strings.Contains(checkHelp.String(), "  -"+flag[1]+" ") {
				t.Errorf("step %q passes --%s, which oauthtrio check does not take", st.Name, flag[1])
			}
		}
		if sc != "" {
			cmd := exec.Command(sc, "--shell=bash", "-")
			cmd.Stdin = strings.NewReader(st.Run)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("step %q: shellcheck: %v\n%s", st.Name, err, out)
			}
		}
	}
	if !uploads {
		t.Error("action.yml does not upload inputs.report-dir with if: always()")
	}
}
