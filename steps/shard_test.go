package steps

import (
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/oauthtrio/oauthtrio/features"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"1/1": {Index: 1, Count: 1}, "2/3": {Index: 2, Count: 3}, " 3 / 3 ": {Index: 3, Count: 3}} {
		got, err := ParseShard(in)
		if err != nil || got.Index != want.Index || got.Count != want.Count {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "3", "0/2", "3/2", "1/0", "a/b", "-1/2", "1/2/3"} {
		if _, err := ParseShard(in); err == nil {
			t.Errorf("ParseShard(%q) accepted", in)
		}
	}
}

// The parts of a split are disjoint, cover every unit and do not depend on
// the order units come in; durations balance them by time.
func TestShardAssign(t *testing.T) {
	var units []shardUnit
	for i := 1; i <= 10; i++ {
		units = append(units, shardUnit{uri: "features/a.feature", line: i * 10})
	}
	for n := 1; n <= 4; n++ {
		seen := map[string]int{}
		for k := 1; k <= n; k++ {
			part := Shard{Index: k, Count: n}.assign(slices.Clone(units))
			reversed := slices.Clone(units)
			slices.Reverse(reversed)
			if again := (Shard{Index: k, Count: n}).assign(reversed); !slices.EqualFunc(part, again, func(a, b shardUnit) bool { return a.id() == b.id() }) {
				t.Errorf("%d/%d depends on the order of the units: %v, then %v", k, n, part, again)
			}
			if len(part) < 10/n || len(part) > (10+n-1)/n {
				t.Errorf("%d/%d has %d of 10 scenarios", k, n, len(part))
			}
			for _, u := range part {
				seen[u.id()]++
			}
		}
		for _, u := range units {
			if seen[u.id()] != 1 {
				t.Errorf("N=%d: %s is in %d parts", n, u.id(), seen[u.id()])
			}
		}
	}

	// One scenario takes as long as the nine others together: it gets a
	// part of its own.
	durations := map[string]time.Duration{}
	for i, u := range units {
		units[i].weight, units[i].known = 1, true
		durations[u.id()] = time.Second
	}
	units[4].weight = 9
	heavy := Shard{Index: 1, Count: 2, Durations: durations}.assign(slices.Clone(units))
	if len(heavy) != 1 || heavy[0].id() != units[4].id() {
		t.Errorf("balanced by durations, part 1/2 is %v; want the heavy scenario alone", heavy)
	}
}

// Shards of a run, each run on its own, together run exactly the scenarios
// of the whole run (none lost, none twice), and their merged report counts
// what the whole run's does. Against the fake issuer, without a browser:
// discovery, client credentials, TLS (an outline) and the resource server.
func TestShardsUnionIsTheWholeRun(t *testing.T) {
	_, cfg := fakeTarget(t, behaviour{}, "https", nil)
	files := fstest.MapFS{}
	for _, name := range []string{"discovery.feature", "client_credentials.feature", "tls.feature", "resource_server.feature"} {
		data, err := fs.ReadFile(features.Files, name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = &fstest.MapFile{Data: data}
	}
	run := func(shard Shard, dir string) *report.Report {
		t.Helper()
		res, err := Run(t.Context(), cfg, Options{
			Features: files, Tags: "~@needs:browser", Shard: shard, ReportDir: dir,
			Output: newTestOutput(t), Progress: ProgressQuiet, Concurrency: 2,
		})
		if err != nil {
			t.Fatalf("shard %v: %v", shard, err)
		}
		return res.Report
	}
	wholeDir := t.TempDir()
	whole := run(Shard{}, wholeDir)
	wholeKeys := scenarioKeys(whole.Scenarios())
	wantCounts := whole.Counts()
	if wantCounts.Total < 10 || wantCounts.Passed == 0 || wantCounts.NotApplicable == 0 {
		t.Fatalf("the whole run should mix passed and not-applicable scenarios, got %+v", wantCounts)
	}
	durations, err := ReadDurations(wholeDir)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		n         int
		durations map[string]time.Duration
	}{{1, nil}, {2, nil}, {3, nil}, {2, durations}} {
		t.Run(fmt.Sprintf("N=%d durations=%v", tc.n, tc.durations != nil), func(t *testing.T) {
			var dirs []string
			var reports []*report.Report
			got := map[string]int{}
			for k := 1; k <= tc.n; k++ {
				dir := filepath.Join(t.TempDir(), fmt.Sprintf("shard-%d", k))
				part := run(Shard{Index: k, Count: tc.n, Durations: tc.durations}, dir)
				if tc.n > 1 && part.Counts().Total == wantCounts.Total {
					t.Errorf("shard %d/%d ran the whole selection", k, tc.n)
				}
				for key, c := range scenarioKeys(part.Scenarios()) {
					got[key] += c
				}
				loaded, err := report.Load(dir)
				if err != nil {
					t.Fatal(err)
				}
				dirs, reports = append(dirs, dir), append(reports, loaded)
			}
			for key, c := range wholeKeys {
				if got[key] != c {
					t.Errorf("%s: %d times in the shards, %d in the whole run", key, got[key], c)
				}
			}
			for key := range got {
				if _, ok := wholeKeys[key]; !ok {
					t.Errorf("%s: in the shards, not in the whole run", key)
				}
			}
			merged, err := report.Merge(dirs, reports)
			if err != nil {
				t.Fatal(err)
			}
			if c := merged.Counts(); c != wantCounts {
				t.Errorf("merged counts %+v, the whole run's %+v", c, wantCounts)
			}
			if mk := scenarioKeys(merged.Scenarios()); !maps.Equal(mk, wholeKeys) {
				t.Errorf("merged scenarios differ from the whole run's:\n%v\n%v", slices.Sorted(maps.Keys(mk)), slices.Sorted(maps.Keys(wholeKeys)))
			}
		})
	}
}

// scenarioKeys counts the scenarios by file, name, status and steps.
func scenarioKeys(list []report.ScenarioRecord) map[string]int {
	out := map[string]int{}
	for _, s := range list {
		var steps []string
		for _, st := range s.Steps {
			steps = append(steps, st.Text)
		}
		out[s.FeatureURI+" › "+s.Name+" ["+string(s.Status)+"] "+strings.Join(steps, " / ")]++
	}
	return out
}

// A --name selection narrows the not-applicable list too: the report holds
// the selected scenarios only, so that shards (and a run by name) do not
// list the rest of the suite.
func TestSelectionNarrowsNotApplicable(t *testing.T) {
	_, cfg := fakeTarget(t, behaviour{}, "https", nil)
	res, err := Run(t.Context(), cfg, Options{
		Tags: "~@needs:browser", Select: Selection{Name: "^The discovery document"},
		Output: newTestOutput(t), Progress: ProgressQuiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	list := res.Report.Scenarios()
	if len(list) == 0 {
		t.Fatal("nothing ran")
	}
	for _, s := range list {
		if !strings.HasPrefix(s.Name, "The discovery document") {
			t.Errorf("%q (%s) is in the report of a run selected by name", s.Name, s.Status)
		}
	}
}
