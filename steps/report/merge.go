package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing/fstest"
	"time"
)

// ResultsFile is the report file that keeps every scenario record whole
// (steps, exchanges, screenshots, notes) and the feature files they came
// from, so that the reports of several runs (the shards of one run) can
// be merged and written again as one.
const ResultsFile = "results.json"

// resultsVersion changes when the shape of results.json does.
const resultsVersion = 1

type savedResults struct {
	Version     int               `json:"version"`
	Title       string            `json:"title"`
	Target      string            `json:"target"`
	Interrupted string            `json:"interrupted,omitempty"`
	Started     time.Time         `json:"started"`
	Elapsed     time.Duration     `json:"elapsed"`
	Features    map[string]string `json:"features"` // URI → feature file text
	Scenarios   []ScenarioRecord  `json:"scenarios"`
}

// WriteResults writes results.json.
func (r *Report) WriteResults(path string) error {
	return writeFile(path, r.results)
}

func (r *Report) results(w io.Writer) error {
	list := r.Scenarios()
	saved := savedResults{
		Version: resultsVersion, Title: r.Title, Target: r.Target, Interrupted: r.Interrupted(),
		Started: r.started, Elapsed: r.elapsedTime(), Features: map[string]string{}, Scenarios: list,
	}
	for _, s := range list {
		if _, ok := saved.Features[s.FeatureURI]; ok || s.FeatureURI == "" {
			continue
		}
		var data []byte
		var err error
		if r.FeatureFS != nil {
			data, err = fs.ReadFile(r.FeatureFS, s.FeatureURI)
		} else {
			data, err = os.ReadFile(s.FeatureURI)
		}
		if err == nil {
			saved.Features[s.FeatureURI] = string(data)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(saved)
}

// elapsedTime is how long the run took: until now while it runs, as
// recorded for a loaded or merged report.
func (r *Report) elapsedTime() time.Duration {
	if r.elapsed > 0 {
		return r.elapsed
	}
	return time.Since(r.started)
}

// Load reads the report a run wrote into dir (its results.json).
func Load(dir string) (*Report, error) {
	path := filepath.Join(dir, ResultsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s: not a report directory written by oauthtrio check", dir, ResultsFile)
	}
	if err != nil {
		return nil, err
	}
	var saved savedResults
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if saved.Version != resultsVersion {
		return nil, fmt.Errorf("%s: results version %d, this oauthtrio reads version %d", path, saved.Version, resultsVersion)
	}
	r := New(saved.Title, saved.Target)
	r.started, r.elapsed, r.interrupted = saved.Started, saved.Elapsed, saved.Interrupted
	files := fstest.MapFS{}
	for uri, text := range saved.Features {
		files[uri] = &fstest.MapFile{Data: []byte(text), Mode: 0o444}
	}
	r.FeatureFS = files
	for _, rec := range saved.Scenarios {
		r.scenarios = append(r.scenarios, &Scenario{r: r, rec: rec, finished: true})
	}
	return r, nil
}

// Merge joins the reports of the shards of one run into one, as the
// whole run would have written it: every scenario once, the counts their
// sum. The reports must have run the same feature files, and no scenario
// may be in two of them. Shards that each started their own issuer (the
// reference on a free port) tested targets that differ: the merged
// report names them all. names label the reports in errors (their
// directories).
func Merge(names []string, reports []*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("no reports to merge")
	}
	first := reports[0]
	out := New(first.Title, first.Target)
	out.started = first.started
	files := fstest.MapFS{}
	fileFrom := map[string]string{}
	seen := map[string]string{}
	var why, targets []string
	for i, r := range reports {
		if !slices.Contains(targets, r.Target) {
			targets = append(targets, r.Target)
		}
		if r.started.Before(out.started) {
			out.started = r.started
		}
		// Shards run side by side: the merged run took as long as the
		// longest.
		out.elapsed = max(out.elapsed, r.elapsedTime())
		if w := r.Interrupted(); w != "" {
			why = append(why, names[i]+": "+w)
		}
		mine := map[string]bool{}
		for _, rec := range r.Scenarios() {
			key := rec.FeatureURI + "\x00" + rec.Name + "\x00" + rec.StepsText()
			if other, ok := seen[key]; ok && !mine[key] {
				return nil, fmt.Errorf("%q (%s) is in both %s and %s: merge the shards of one run, each once", rec.Name, rec.FeatureURI, other, names[i])
			}
			seen[key], mine[key] = names[i], true
			out.scenarios = append(out.scenarios, &Scenario{r: out, rec: rec, finished: true})
			if rec.FeatureURI == "" || files[rec.FeatureURI] != nil {
				continue
			}
			data, err := fs.ReadFile(r.FeatureFS, rec.FeatureURI)
			if err != nil {
				continue
			}
			files[rec.FeatureURI] = &fstest.MapFile{Data: data, Mode: 0o444}
			fileFrom[rec.FeatureURI] = names[i]
		}
		for uri, from := range fileFrom {
			if data, err := fs.ReadFile(r.FeatureFS, uri); err == nil && string(data) != string(files[uri].Data) {
				return nil, fmt.Errorf("%s differs between %s and %s: merge the shards of one run", uri, from, names[i])
			}
		}
	}
	slices.Sort(why)
	out.interrupted = strings.Join(why, "; ")
	out.Target = strings.Join(targets, ", ")
	out.FeatureFS = files
	return out, nil
}
