package steps

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	gherkin "github.com/cucumber/gherkin/go/v42"
	messages "github.com/cucumber/messages/go/v34"
)

// Shard is one of Count parts of a run's selected scenarios, so that CI
// jobs can share a long suite: the parts of one selection are disjoint and
// together are the whole selection. The part a scenario falls in depends
// only on the selection, the features and Durations, so every job of a
// matrix computes the same split (given the same issuer, flags and
// durations file).
//
// The unit is a scenario as FILE:LINE selects it: an outline's rows stay
// together, as their Background state is shared by nothing else.
type Shard struct {
	// Index is the part this run takes, 1 to Count; a zero Count runs
	// everything.
	Index, Count int
	// Durations are how long each scenario took in an earlier run, by
	// FILE:LINE as cucumber JSON gives them (an outline's rows by their
	// own lines). With them the parts are balanced by time; without, by
	// number of scenarios.
	Durations map[string]time.Duration
}

// ParseShard reads "K/N", 1 ≤ K ≤ N.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	ki, err1 := strconv.Atoi(strings.TrimSpace(k))
	ni, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 1 || ki > ni {
		return Shard{}, fmt.Errorf("%q: want K/N with 1 ≤ K ≤ N, e.g. 2/3", s)
	}
	return Shard{Index: ki, Count: ni}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ReadDurations reads the scenario durations of an earlier run from its
// cucumber JSON: path is the file or a report directory holding
// cucumber.json. A scenario's duration is the sum of its steps'.
func ReadDurations(path string) (map[string]time.Duration, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "cucumber.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var feats []struct {
		URI      string `json:"uri"`
		Elements []struct {
			Line  int `json:"line"`
			Steps []struct {
				Result struct {
					Duration int64 `json:"duration"`
				} `json:"result"`
			} `json:"steps"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(data, &feats); err != nil {
		return nil, fmt.Errorf("%s: not cucumber JSON: %w", path, err)
	}
	out := map[string]time.Duration{}
	for _, f := range feats {
		for _, el := range f.Elements {
			id := f.URI + ":" + strconv.Itoa(el.Line)
			out[id] += 0 // a scenario whose steps did not run took no time, and is known
			for _, st := range el.Steps {
				out[id] += time.Duration(st.Result.Duration)
			}
		}
	}
	return out, nil
}

// shardUnit is a scenario (every row of an outline) as sharding sees it.
type shardUnit struct {
	uri    string
	line   int
	weight float64
	known  bool // weight comes from Durations
	// pickles counts its selected rows; browser says one of them needs
	// the browser.
	pickles int
	browser bool
}

func (u shardUnit) id() string { return u.uri + ":" + strconv.Itoa(u.line) }

// apply narrows paths and the plan to this shard: paths become the
// FILE:LINE of this part's scenarios (none when the part is empty), and
// only this part's not-applicable scenarios stay recorded.
func (s Shard) apply(files fs.FS, paths []string, selection tagExpression, p *plan) ([]string, error) {
	units, err := s.units(files, paths, selection)
	if err != nil {
		return nil, err
	}
	mine := s.assign(units)
	var kept []string
	ids := map[string]bool{}
	for _, u := range mine {
		ids[u.id()] = true
		kept = append(kept, u.id())
	}
	na := p.notApplicable[:0:0]
	notApplicable := map[string]bool{}
	for _, sc := range p.notApplicable {
		id := sc.uri + ":" + strconv.Itoa(sc.line)
		notApplicable[id] = true
		if ids[id] {
			na = append(na, sc)
		}
	}
	p.notApplicable = na
	p.total, p.needsBrowser = 0, false
	for _, u := range mine {
		p.total += u.pickles
		p.needsBrowser = p.needsBrowser || (u.browser && !notApplicable[u.id()])
	}
	return kept, nil
}

// units lists the selected scenarios: those godog's paths and the tag
// selection keep. What the issuer advertises plays no part, so that jobs
// on machines that differ (one without Chromium) still split alike.
func (s Shard) units(files fs.FS, paths []string, selection tagExpression) ([]shardUnit, error) {
	byID := map[string]*shardUnit{}
	var order []string
	add := func(uri string, line int) *shardUnit {
		id := uri + ":" + strconv.Itoa(line)
		u, ok := byID[id]
		if !ok {
			u = &shardUnit{uri: uri, line: line}
			byID[id] = u
			order = append(order, id)
		}
		return u
	}
	err := fs.WalkDir(files, ".", func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(file, ".feature") {
			return err
		}
		doc, pickles, err := parseFeature(files, file)
		if err != nil {
			return err
		}
		scenarioLine, rowLine := astLines(doc)
		for _, pk := range pickles {
			line := scenarioLine[pk.AstNodeIds[0]]
			if !selection.matches(pickleTags(pk)) || !inPaths(file, line, paths) {
				continue
			}
			u := add(file, line)
			u.pickles++
			u.browser = u.browser || slices.Contains(pickleTags(pk), "@needs:browser")
			cukeLine := line
			if len(pk.AstNodeIds) > 1 {
				cukeLine = rowLine[pk.AstNodeIds[1]]
			}
			if d, ok := s.Durations[file+":"+strconv.Itoa(cukeLine)]; ok {
				u.weight += d.Seconds()
				u.known = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	units := make([]shardUnit, 0, len(order))
	for _, id := range order {
		units = append(units, *byID[id])
	}
	return units, nil
}

// assign splits units into Count parts, greedily: heaviest first, each to
// the lightest part so far (ties to the lower part), and returns part
// Index. Without durations every scenario weighs one, which deals them out
// in turn; a scenario the durations do not know weighs their mean.
func (s Shard) assign(units []shardUnit) []shardUnit {
	var sum float64
	known := 0
	for _, u := range units {
		if u.known {
			sum += u.weight
			known++
		}
	}
	for i := range units {
		switch {
		case !units[i].known && (len(s.Durations) == 0 || known == 0):
			units[i].weight = 1
		case !units[i].known:
			units[i].weight = sum / float64(known)
		}
	}
	sorted := slices.Clone(units)
	slices.SortStableFunc(sorted, func(a, b shardUnit) int {
		if c := cmp.Compare(b.weight, a.weight); c != 0 {
			return c
		}
		if c := cmp.Compare(a.uri, b.uri); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	})
	load := make([]float64, s.Count)
	count := make([]int, s.Count)
	var mine []shardUnit
	for _, u := range sorted {
		best := 0
		for k := 1; k < s.Count; k++ {
			if load[k] < load[best] || (load[k] == load[best] && count[k] < count[best]) {
				best = k
			}
		}
		load[best] += u.weight
		count[best]++
		if best == s.Index-1 {
			mine = append(mine, u)
		}
	}
	// In the features' order, as an unsharded run goes.
	slices.SortFunc(mine, func(a, b shardUnit) int {
		if c := cmp.Compare(a.uri, b.uri); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	})
	return mine
}

func parseFeature(files fs.FS, file string) (*messages.GherkinDocument, []*messages.Pickle, error) {
	data, err := fs.ReadFile(files, file)
	if err != nil {
		return nil, nil, err
	}
	doc, err := gherkin.ParseGherkinDocument(strings.NewReader(string(data)), (&messages.Incrementing{}).NewId)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return doc, gherkin.Pickles(*doc, file, (&messages.Incrementing{}).NewId), nil
}

func pickleTags(pk *messages.Pickle) []string {
	tags := make([]string, len(pk.Tags))
	for i, t := range pk.Tags {
		tags[i] = t.Name
	}
	return tags
}

// inPaths tells whether godog's paths (directories, files and FILE:LINE)
// take the scenario at file:line.
func inPaths(file string, line int, paths []string) bool {
	for _, p := range paths {
		if i := strings.LastIndex(p, ":"); i > 0 {
			if n, err := strconv.Atoi(p[i+1:]); err == nil {
				if p[:i] == file && n == line {
					return true
				}
				continue
			}
		}
		if p == file || strings.HasPrefix(file, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}
