package features

import (
	_ "embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	gherkin "github.com/cucumber/gherkin/go/v42"
	messages "github.com/cucumber/messages/go/v34"
	"gopkg.in/yaml.v3"
)

//go:embed requirements.yaml
var requirementsYAML []byte

// Requirement is one rule a specification makes of a provider.
type Requirement struct {
	// Tag is the section tag scenarios carry, without "@".
	Tag   string `yaml:"tag"`
	Level string `yaml:"level"`
	Text  string `yaml:"text"`
	// Untestable says why the rule cannot be checked from outside.
	Untestable string `yaml:"untestable"`
	// Gap says why no scenario checks a rule that could be checked.
	Gap string `yaml:"gap"`
	// PositiveOnly says why a checked MUST has no negative scenario: a
	// rule on what a response carries, where nothing wrong can be sent.
	PositiveOnly string `yaml:"positive_only"`
	// NegativeGap says why a checked MUST that could have a negative
	// scenario has none yet: a known hole, listed so that it stays visible.
	NegativeGap string `yaml:"negative_gap"`
}

// NegativeTag marks a negative scenario: the wrong thing is sent and must
// be refused, rather than the right thing accepted.
const NegativeTag = "negative"

// IsNegative reports whether a scenario's tags (with or without "@") mark
// it as a negative scenario.
func IsNegative(tags []string) bool {
	return slices.ContainsFunc(tags, func(t string) bool { return strings.TrimPrefix(t, "@") == NegativeTag })
}

// Spec is the specification part of the tag: RFC6749 of RFC6749-4.1.2.
func (r Requirement) Spec() string {
	spec, _, _ := strings.Cut(r.Tag, "-")
	return spec
}

// Requirements returns the requirements catalogue (requirements.yaml).
func Requirements() ([]Requirement, error) {
	var reqs []Requirement
	if err := yaml.Unmarshal(requirementsYAML, &reqs); err != nil {
		return nil, fmt.Errorf("requirements.yaml: %w", err)
	}
	return reqs, nil
}

// Scenario is a scenario of the feature files with its tags (the
// feature's included).
type Scenario struct {
	Name, Feature, URI string
	Tags               []string
	// Line is the line of its Scenario or Scenario Outline keyword: what
	// FILE:LINE selects (every row of an outline shares it).
	Line int
}

// Scenarios lists every scenario (every example row of an outline) of the
// feature files in fsys.
func Scenarios(fsys fs.FS) ([]Scenario, error) {
	var out []Scenario
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".feature") {
			return err
		}
		f, err := fsys.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		doc, err := gherkin.ParseGherkinDocument(f, (&messages.Incrementing{}).NewId)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		lines := scenarioLines(doc)
		for _, pk := range gherkin.Pickles(*doc, name, (&messages.Incrementing{}).NewId) {
			s := Scenario{Name: pk.Name, Feature: doc.Feature.Name, URI: name, Line: lines[pk.AstNodeIds[0]]}
			for _, t := range pk.Tags {
				s.Tags = append(s.Tags, strings.TrimPrefix(t.Name, "@"))
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}

// scenarioLines maps the AST id of each scenario (in a rule or not) to
// its line.
func scenarioLines(doc *messages.GherkinDocument) map[string]int {
	lines := map[string]int{}
	if doc.Feature == nil {
		return lines
	}
	for _, c := range doc.Feature.Children {
		if c.Scenario != nil {
			lines[c.Scenario.Id] = int(c.Scenario.Location.Line)
		}
		if c.Rule != nil {
			for _, rc := range c.Rule.Children {
				if rc.Scenario != nil {
					lines[rc.Scenario.Id] = int(rc.Scenario.Location.Line)
				}
			}
		}
	}
	return lines
}

// IsSectionTag reports whether a tag cites a section of a specification
// the catalogue covers (as opposed to @needs:, @should, @oidf: or the
// IRIS workshop's tags).
func IsSectionTag(tag string) bool {
	spec, _, ok := strings.Cut(strings.TrimPrefix(tag, "@"), "-")
	return ok && slices.ContainsFunc(sectionPrefixes, func(p string) bool { return strings.HasPrefix(spec, p) })
}

var sectionPrefixes = []string{"RFC", "OIDCC", "OIDCD", "OIDCRPL", "BCP"}
