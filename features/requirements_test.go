package features

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite COVERAGE.md from requirements.yaml and the features")

// TestRequirementsCatalogue fails when a requirement has no scenario and no
// reason, when a scenario cites a section the catalogue lacks, and when an
// entry is malformed.
func TestRequirementsCatalogue(t *testing.T) {
	reqs, scenarios := loadCatalogue(t)
	for _, problem := range catalogueProblems(reqs, scenarios) {
		t.Error(problem)
	}
}

func TestCatalogueProblemsAreFound(t *testing.T) {
	scenarios := []Scenario{{Name: "s", URI: "x.feature", Tags: []string{"RFC6749-4.1.2", "RFC6749-99", "needs:browser"}}}
	reqs := []Requirement{
		{Tag: "RFC6749-4.1.2", Level: "MUST", Text: "covered"},
		{Tag: "RFC6749-3.2", Level: "MUST", Text: "no scenario, no reason"},
		{Tag: "RFC6749-10.10", Level: "MUST", Text: "reasoned", Untestable: "why"},
		{Tag: "RFC6749-4.1.2", Level: "MAY", Text: "bad level"},
		{Tag: "RFC6749-4.1.2", Level: "MUST", Text: "positive only, yet a negative scenario", PositiveOnly: "why"},
		{Tag: "RFC6750-3", Level: "MUST", Text: "no negative"},
		{Tag: "RFC6750-2.1", Level: "MUST", Text: "shape only", PositiveOnly: "why"},
	}
	scenarios = append(scenarios,
		Scenario{Name: "n", URI: "x.feature", Tags: []string{"RFC6749-4.1.2", "negative"}},
		Scenario{Name: "p", URI: "x.feature", Tags: []string{"RFC6750-3", "RFC6750-2.1"}})
	got := strings.Join(catalogueProblems(reqs, scenarios), "\n")
	for _, want := range []string{"RFC6749-3.2: no scenario", "cites @RFC6749-99", `level "MAY"`, "RFC6749-4.1.2: 1 negative scenarios check it", "RFC6750-3: a MUST without a negative scenario"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "10.10") || strings.Contains(got, "needs:browser") || strings.Contains(got, "RFC6750-2.1") {
		t.Errorf("a reasoned entry or a non-section tag was reported:\n%s", got)
	}
}

func catalogueProblems(reqs []Requirement, scenarios []Scenario) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	byTag := scenariosByTag(scenarios)
	known := map[string]bool{}
	for _, r := range reqs {
		known[r.Tag] = true
		switch {
		case !IsSectionTag(r.Tag):
			bad("%s: not a section tag (RFC…, OIDCC…, OIDCD…, OIDCRPL…, BCP… followed by -section)", r.Tag)
		case r.Level != "MUST" && r.Level != "SHOULD":
			bad("%s: level %q is neither MUST nor SHOULD", r.Tag, r.Level)
		case strings.TrimSpace(r.Text) == "":
			bad("%s: no text", r.Tag)
		case r.Untestable != "" && r.Gap != "":
			bad("%s: both untestable and gap", r.Tag)
		case len(byTag[r.Tag]) == 0 && r.Untestable == "" && r.Gap == "":
			bad("%s: no scenario carries @%s, and no untestable or gap reason says why", r.Tag, r.Tag)
		case len(byTag[r.Tag]) > 0 && (r.Untestable != "" || r.Gap != ""):
			bad("%s: scenarios check it (%s), yet it is marked untestable or a gap", r.Tag, byTag[r.Tag][0].Name)
		}
		negatives := countNegatives(byTag[r.Tag])
		switch {
		case (r.PositiveOnly != "" || r.NegativeGap != "") && (r.Level != "MUST" || len(byTag[r.Tag]) == 0):
			bad("%s: positive_only and negative_gap are for MUSTs that scenarios check", r.Tag)
		case r.PositiveOnly != "" && r.NegativeGap != "":
			bad("%s: both positive_only and negative_gap", r.Tag)
		case negatives > 0 && (r.PositiveOnly != "" || r.NegativeGap != ""):
			bad("%s: %d negative scenarios check it, yet it is marked positive_only or negative_gap", r.Tag, negatives)
		case r.Level == "MUST" && len(byTag[r.Tag]) > 0 && negatives == 0 && r.PositiveOnly == "" && r.NegativeGap == "":
			bad("%s: a MUST without a negative scenario (@%s: the wrong thing sent and refused), and no positive_only or negative_gap reason says why", r.Tag, NegativeTag)
		}
	}
	for _, s := range scenarios {
		for _, tag := range s.Tags {
			if IsSectionTag(tag) && !known[tag] {
				bad("%s: scenario %q cites @%s, which requirements.yaml lacks", s.URI, s.Name, tag)
			}
		}
	}
	return problems
}

// TestCoverageTable checks that COVERAGE.md is the table the catalogue and
// the features make; -update rewrites it.
func TestCoverageTable(t *testing.T) {
	reqs, scenarios := loadCatalogue(t)
	want := coverageTable(reqs, scenarios)
	if *update {
		if err := os.WriteFile("COVERAGE.md", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("COVERAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("COVERAGE.md is stale: go test ./features -run TestCoverageTable -update")
	}
}

func scenariosByTag(scenarios []Scenario) map[string][]Scenario {
	out := map[string][]Scenario{}
	for _, s := range scenarios {
		for _, tag := range s.Tags {
			out[tag] = append(out[tag], s)
		}
	}
	return out
}

// countNegatives counts the negative scenarios among scenarios.
func countNegatives(scenarios []Scenario) int {
	n := 0
	for _, s := range scenarios {
		if IsNegative(s.Tags) {
			n++
		}
	}
	return n
}

func coverageTable(reqs []Requirement, scenarios []Scenario) []byte {
	byTag := scenariosByTag(scenarios)
	var b bytes.Buffer
	covered, gaps, untestable, musts, withNegative, negativeGaps := 0, 0, 0, 0, 0, 0
	for _, r := range reqs {
		switch {
		case len(byTag[r.Tag]) > 0:
			covered++
		case r.Gap != "":
			gaps++
		default:
			untestable++
		}
		if r.Level == "MUST" && r.Untestable == "" {
			musts++
			switch {
			case countNegatives(byTag[r.Tag]) > 0:
				withNegative++
			case r.PositiveOnly == "":
				negativeGaps++
			}
		}
	}
	fmt.Fprintf(&b, "# Coverage\n\nGenerated from `requirements.yaml` and the feature files by `go test ./features -run TestCoverageTable -update`; do not edit.\n\n")
	fmt.Fprintf(&b, "%d requirements: %d checked by scenarios, %d gaps (checkable from outside, no scenario yet), %d not checkable from outside.\n\n", len(reqs), covered, gaps, untestable)
	fmt.Fprintf(&b, "%d MUSTs checkable from outside: %d with a negative scenario (`@%s`: the wrong thing is sent and must be refused), %d without one (a gap, or no scenario at all), %d that only state what a response carries.\n\n", musts, withNegative, NegativeTag, negativeGaps, musts-withNegative-negativeGaps)
	fmt.Fprintf(&b, "| section | level | requirement | scenarios | negative scenarios |\n|---|---|---|---|---|\n")
	for _, r := range reqs {
		var cell string
		switch names := byTag[r.Tag]; {
		case len(names) > 0:
			var list []string
			for _, s := range names {
				list = append(list, s.Name)
			}
			slices.Sort(list)
			list = slices.Compact(list)
			cell = fmt.Sprintf("%d: %s", len(list), strings.Join(list, "; "))
		case r.Gap != "":
			cell = "**gap**: " + r.Gap
		default:
			cell = "not checkable from outside: " + r.Untestable
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Tag, r.Level, r.Text, strings.ReplaceAll(cell, "|", "\\|"), strings.ReplaceAll(negativeCell(r, byTag[r.Tag]), "|", "\\|"))
	}
	b.Write(rolesTable(scenarios))
	return b.Bytes()
}

// negativeCell names a requirement's negative scenarios, or says why it
// has none.
func negativeCell(r Requirement, scenarios []Scenario) string {
	var names []string
	for _, s := range scenarios {
		if IsNegative(s.Tags) {
			names = append(names, s.Name)
		}
	}
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	switch {
	case len(names) > 0:
		return fmt.Sprintf("%d: %s", len(names), strings.Join(names, "; "))
	case r.Level != "MUST" || r.Untestable != "":
		return ""
	case r.PositiveOnly != "":
		return "positive only: " + r.PositiveOnly
	case r.NegativeGap != "":
		return "**no negative scenario**: " + r.NegativeGap
	}
	return "**no negative scenario**"
}

// rolesTable lists, for each client role and test user of the target
// configuration, the scenarios that need it (by their @needs: tags).
func rolesTable(scenarios []Scenario) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n## What each role of the target configuration is needed for\n\n")
	fmt.Fprintf(&b, "A scenario whose role is not configured (and cannot be registered) is not applicable. `introspected` and `revoker` are the clients `assign.introspected` and `assign.revoker` name (default `service`).\n\n")
	fmt.Fprintf(&b, "| role | scenarios | |\n|---|---|---|\n")
	needs := map[string][]string{}
	for _, s := range scenarios {
		for _, tag := range s.Tags {
			if role, ok := strings.CutPrefix(tag, "needs:client:"); ok {
				needs["clients."+role] = append(needs["clients."+role], s.Feature+" › "+s.Name)
			}
			if user, ok := strings.CutPrefix(tag, "needs:user:"); ok {
				needs["users."+user] = append(needs["users."+user], s.Feature+" › "+s.Name)
			}
		}
	}
	keys := make([]string, 0, len(needs))
	for k := range needs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		list := slices.Compact(slices.Sorted(slices.Values(needs[k])))
		fmt.Fprintf(&b, "| `%s` | %d | %s |\n", k, len(list), strings.ReplaceAll(strings.Join(list, "; "), "|", "\\|"))
	}
	return b.Bytes()
}

// loadCatalogue reads requirements.yaml and the shipped features.
func loadCatalogue(t *testing.T) ([]Requirement, []Scenario) {
	t.Helper()
	reqs, err := Requirements()
	if err != nil {
		t.Fatal(err)
	}
	scenarios, err := Scenarios(Files)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := Scenarios(Roles)
	if err != nil {
		t.Fatal(err)
	}
	return reqs, append(scenarios, roles...)
}
