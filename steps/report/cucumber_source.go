package report

import (
	"bytes"
	"io/fs"
	"os"
	"slices"

	gherkin "github.com/cucumber/gherkin/go/v42"
	messages "github.com/cucumber/messages/go/v34"
)

// featureSource is a feature file parsed for the line numbers cucumber
// JSON consumers show: of the feature, each scenario (or examples row),
// step and tag.
type featureSource struct {
	doc     *messages.GherkinDocument
	pickles []*messages.Pickle
	used    []bool
	lines   map[string]int    // AST id → line
	keyword map[string]string // step AST id → keyword as written ("And ")
}

// featureSources parses each feature file once per write.
type featureSources struct {
	files fs.FS
	byURI map[string]*featureSource
}

func (fsrc *featureSources) get(uri string) *featureSource {
	if src, ok := fsrc.byURI[uri]; ok {
		return src
	}
	fsrc.byURI[uri] = nil
	var data []byte
	var err error
	if fsrc.files != nil {
		data, err = fs.ReadFile(fsrc.files, uri)
	} else {
		data, err = os.ReadFile(uri)
	}
	if err != nil || uri == "" {
		return nil
	}
	doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(data), (&messages.Incrementing{}).NewId)
	if err != nil || doc.Feature == nil {
		return nil
	}
	src := &featureSource{doc: doc, lines: map[string]int{}, keyword: map[string]string{}}
	for _, t := range doc.Feature.Tags {
		src.lines[t.Id] = int(t.Location.Line)
	}
	addSteps := func(steps []*messages.Step) {
		for _, st := range steps {
			src.lines[st.Id] = int(st.Location.Line)
			src.keyword[st.Id] = st.Keyword
		}
	}
	addScenario := func(sc *messages.Scenario, tags []*messages.Tag) {
		src.lines[sc.Id] = int(sc.Location.Line)
		for _, t := range append(slices.Clone(tags), sc.Tags...) {
			src.lines[t.Id] = int(t.Location.Line)
		}
		addSteps(sc.Steps)
		for _, ex := range sc.Examples {
			for _, t := range ex.Tags {
				src.lines[t.Id] = int(t.Location.Line)
			}
			for _, row := range ex.TableBody {
				src.lines[row.Id] = int(row.Location.Line)
			}
		}
	}
	for _, c := range doc.Feature.Children {
		switch {
		case c.Background != nil:
			addSteps(c.Background.Steps)
		case c.Scenario != nil:
			addScenario(c.Scenario, nil)
		case c.Rule != nil:
			for _, t := range c.Rule.Tags {
				src.lines[t.Id] = int(t.Location.Line)
			}
			for _, rc := range c.Rule.Children {
				if rc.Background != nil {
					addSteps(rc.Background.Steps)
				}
				if rc.Scenario != nil {
					addScenario(rc.Scenario, nil)
				}
			}
		}
	}
	src.pickles = gherkin.Pickles(*doc, uri, (&messages.Incrementing{}).NewId)
	src.used = make([]bool, len(src.pickles))
	fsrc.byURI[uri] = src
	return src
}

// pickle finds the scenario's pickle: same name, steps as recorded, not
// yet taken by another scenario (outline examples share a name).
func (src *featureSource) pickle(s ScenarioRecord) *messages.Pickle {
	first := -1
	for i, pk := range src.pickles {
		if src.used[i] || pk.Name != s.Name {
			continue
		}
		if first < 0 {
			first = i
		}
		if len(s.Steps) > len(pk.Steps) {
			continue
		}
		same := true
		for j, st := range s.Steps {
			same = same && pk.Steps[j].Text == st.Text
		}
		if same && len(s.Steps) > 0 {
			src.used[i] = true
			return pk
		}
	}
	if first < 0 {
		return nil
	}
	src.used[first] = true
	return src.pickles[first]
}

// line of a pickle: its examples row for an outline, else its scenario.
func (src *featureSource) line(pk *messages.Pickle) int {
	return src.lines[pk.AstNodeIds[len(pk.AstNodeIds)-1]]
}
