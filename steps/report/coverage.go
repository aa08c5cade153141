package report

import (
	"slices"
	"strings"
)

// Section is one requirement of the catalogue (features/requirements.yaml)
// as the coverage table shows it.
type Section struct {
	// Tag is the section tag scenarios carry, without "@".
	Tag   string
	Level string
	Text  string
}

// SectionCoverage is what this run's scenarios citing one section came to.
type SectionCoverage struct {
	Section
	// URL links the section's text; empty when unknown.
	URL    string
	Counts Counts
	// Uncatalogued: scenarios cite the section, the catalogue lacks it (a
	// user's own feature files).
	Uncatalogued bool
}

// Coverage tallies the scenarios of the run by the sections they cite: one
// row per section of sections, in their order (a section no scenario of the
// run cites has zero counts), then the sections the scenarios cite that
// sections lacks. isSection tells a section tag from the others (@needs:,
// @should, @negative).
func Coverage(sections []Section, list []ScenarioRecord, isSection func(tag string) bool) []SectionCoverage {
	byTag := map[string][]ScenarioRecord{}
	for _, s := range list {
		for _, t := range slices.Compact(slices.Sorted(slices.Values(s.Tags))) {
			t = strings.TrimPrefix(t, "@")
			if isSection(t) {
				byTag[t] = append(byTag[t], s)
			}
		}
	}
	var out []SectionCoverage
	known := map[string]bool{}
	row := func(sec Section, uncatalogued bool) SectionCoverage {
		c := SectionCoverage{Section: sec, Counts: countOf(byTag[sec.Tag]), Uncatalogued: uncatalogued}
		c.URL, _ = SpecURL(sec.Tag)
		return c
	}
	for _, sec := range sections {
		if known[sec.Tag] {
			continue // entries sharing a tag share its scenarios
		}
		known[sec.Tag] = true
		out = append(out, row(sec, false))
	}
	var extra []string
	for t := range byTag {
		if !known[t] {
			extra = append(extra, t)
		}
	}
	slices.Sort(extra)
	for _, t := range extra {
		out = append(out, row(Section{Tag: t}, true))
	}
	return out
}
