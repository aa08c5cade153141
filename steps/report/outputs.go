package report

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	messages "github.com/cucumber/messages/go/v34"
)

// WriteAll writes report.html, junit.xml, cucumber.json and results.json
// (for Load and Merge) into dir.
func (r *Report) WriteAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(string) error{
		"report.html": r.WriteHTML, "junit.xml": r.WriteJUnit, "cucumber.json": r.WriteCucumberJSON,
		ResultsFile: r.WriteResults,
	} {
		if err := write(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes through a temporary file, so a reader never sees half a report.
func writeFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Summary prints the counts, then every scenario a reader must look at:
// failures, warnings, expected failures, unexpected passes and the
// scenarios that did not apply, each with its reason.
func (r *Report) Summary(w io.Writer) {
	list := r.Scenarios()
	c := countOf(list)
	title := r.Title
	if r.Target != "" {
		title += " against " + r.Target
	}
	fmt.Fprintf(w, "\n%s\n", title)
	interrupted := r.Interrupted()
	if interrupted != "" {
		fmt.Fprintf(w, "INTERRUPTED (%s): a partial report; %d scenarios did not finish and count as not run\n", interrupted, c.NotRun)
	}
	fmt.Fprintf(w, "%d scenarios: %d passed, %d failed, %d warnings, %d not applicable, %d expected failures",
		c.Total, c.Passed, c.Failed, c.Warnings, c.NotApplicable, c.ExpectedFailures)
	if c.NotRun > 0 {
		fmt.Fprintf(w, ", %d not run", c.NotRun)
	}
	fmt.Fprintln(w)

	section := func(heading string, keep func(ScenarioRecord) bool, detail func(ScenarioRecord) string) {
		first := true
		for _, s := range list {
			if !keep(s) {
				continue
			}
			if first {
				fmt.Fprintf(w, "\n%s:\n", heading)
				first = false
			}
			fmt.Fprintf(w, "  - %s › %s", s.Feature, s.Name)
			if d := detail(s); d != "" {
				fmt.Fprintf(w, "\n      %s", d)
			}
			fmt.Fprintln(w)
		}
	}
	section("Failed (MUST)", func(s ScenarioRecord) bool { return s.Status == StatusFailed }, func(s ScenarioRecord) string { return firstLine(s.Error) })
	section("Warnings (SHOULD)", func(s ScenarioRecord) bool { return s.Status == StatusWarning }, func(s ScenarioRecord) string { return firstLine(s.Error) })
	section("Expected failures", func(s ScenarioRecord) bool { return s.Status == StatusExpectedFailure }, func(s ScenarioRecord) string { return "expected: " + s.Reason })
	section("Passed although listed as expected failures", func(s ScenarioRecord) bool { return s.UnexpectedPass }, func(s ScenarioRecord) string { return s.Reason })
	notApplicableByReason(w, list, c)

	switch {
	case interrupted != "":
		fmt.Fprintf(w, "\nResult: INTERRUPTED (%d MUST-level failures among the scenarios that finished)\n", c.Failed)
	case c.Failed > 0:
		fmt.Fprintf(w, "\nResult: FAILED (%d MUST-level failures)\n", c.Failed)
	default:
		fmt.Fprintln(w, "\nResult: PASSED")
	}
}

// notApplicableByReason prints the scenarios that did not apply grouped by
// reason, most common first: a run against an issuer configured with
// little (an --issuer alone) has most of the suite not applicable for a
// handful of reasons, which a list per scenario would bury.
func notApplicableByReason(w io.Writer, list []ScenarioRecord, c Counts) {
	if c.NotApplicable == 0 {
		return
	}
	byReason := map[string][]string{}
	for _, s := range list {
		if s.Status != StatusNotApplicable {
			continue
		}
		for _, reason := range strings.Split(s.Reason, "; ") {
			byReason[reason] = append(byReason[reason], s.Feature+" › "+s.Name)
		}
	}
	reasons := slices.SortedFunc(maps.Keys(byReason), func(a, b string) int {
		if n := len(byReason[b]) - len(byReason[a]); n != 0 {
			return n
		}
		return strings.Compare(a, b)
	})
	if 2*c.NotApplicable >= c.Total {
		fmt.Fprintf(w, "\nMost of the suite did not apply: %d of %d scenarios are not applicable, for %d reasons:\n", c.NotApplicable, c.Total, len(reasons))
	} else {
		fmt.Fprintf(w, "\nNot applicable (%d), by reason:\n", c.NotApplicable)
	}
	const shown = 3
	for _, reason := range reasons {
		names := byReason[reason]
		fmt.Fprintf(w, "  - %s (%d)\n", reason, len(names))
		if len(names) > shown {
			names = append(names[:shown:shown], fmt.Sprintf("and %d more", len(names)-shown))
		}
		fmt.Fprintf(w, "      %s\n", strings.Join(names, "; "))
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	return line
}

// JUnit XML, in the shape CI servers read (the Ant/Surefire schema).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string `xml:"name,attr"`
	Tests     int    `xml:"tests,attr"`
	Failures  int    `xml:"failures,attr"`
	Errors    int    `xml:"errors,attr"`
	Skipped   int    `xml:"skipped,attr"`
	Time      string `xml:"time,attr"`
	Timestamp string `xml:"timestamp,attr,omitempty"`
	// Properties say, on an interrupted run, that the suite is partial.
	Properties *junitProps `xml:"properties,omitempty"`
	Cases      []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties *junitProps     `xml:"properties,omitempty"`
	Failure    *junitFailure   `xml:"failure,omitempty"`
	Skipped    *junitSkipped   `xml:"skipped,omitempty"`
	SystemOut  *junitSystemOut `xml:"system-out,omitempty"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitSystemOut struct {
	Body string `xml:",chardata"`
}

// WriteJUnit writes JUnit XML: failures are <failure>; not-applicable
// scenarios and expected failures are <skipped> with the reason (neither
// should turn a CI build red); warnings pass with the warning in
// <system-out> and a status property.
func (r *Report) WriteJUnit(path string) error {
	return writeFile(path, r.junit)
}

func (r *Report) junit(w io.Writer) error {
	list := r.Scenarios()
	root := junitSuites{Name: r.Title}
	var total time.Duration
	idx := map[string]int{}
	for _, s := range list {
		i, ok := idx[s.Feature]
		if !ok {
			i = len(root.Suites)
			idx[s.Feature] = i
			root.Suites = append(root.Suites, junitSuite{Name: s.Feature, Timestamp: s.Started.UTC().Format(time.RFC3339)})
		}
		suite := &root.Suites[i]
		tc := junitCase{Name: s.Name, Classname: s.Feature, Time: seconds(s.Duration)}
		tc.Properties = &junitProps{Props: []junitProp{{"status", string(s.Status)}, {"level", s.Level()}, {"tags", strings.Join(s.Tags, " ")}}}
		switch s.Status {
		case StatusFailed:
			tc.Failure = &junitFailure{Message: firstLine(s.Error), Type: "MUST", Body: s.StepsText()}
			suite.Failures++
		case StatusNotApplicable:
			tc.Skipped = &junitSkipped{Message: "not applicable: " + s.Reason}
			suite.Skipped++
		case StatusExpectedFailure:
			tc.Skipped = &junitSkipped{Message: "expected failure: " + s.Reason + " (" + firstLine(s.Error) + ")"}
			suite.Skipped++
		case StatusNotRun:
			tc.Skipped = &junitSkipped{Message: "INTERRUPTED, not run: " + s.Reason}
			suite.Skipped++
		case StatusWarning:
			tc.SystemOut = &junitSystemOut{Body: "WARNING (SHOULD): " + s.Error + "\n\n" + s.StepsText()}
		}
		if s.UnexpectedPass {
			tc.SystemOut = &junitSystemOut{Body: s.Reason}
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, tc)
		total += s.Duration
	}
	for i := range root.Suites {
		var d time.Duration
		for _, s := range list {
			if s.Feature == root.Suites[i].Name {
				d += s.Duration
			}
		}
		root.Suites[i].Time = seconds(d)
		root.Tests += root.Suites[i].Tests
		root.Failures += root.Suites[i].Failures
		root.Skipped += root.Suites[i].Skipped
	}
	root.Time = seconds(total)
	if why := r.Interrupted(); why != "" {
		root.Name += " (INTERRUPTED)"
		for i := range root.Suites {
			root.Suites[i].Properties = &junitProps{Props: []junitProp{{"interrupted", why}}}
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// StepsText lists the scenario's steps with their status and errors, as
// the JUnit failure body does.
func (s ScenarioRecord) StepsText() string {
	var b strings.Builder
	for _, st := range s.Steps {
		fmt.Fprintf(&b, "%-9s %s %s\n", "["+string(st.Status)+"]", st.Keyword, st.Text)
		if st.Error != "" {
			fmt.Fprintf(&b, "          %s\n", strings.ReplaceAll(st.Error, "\n", "\n          "))
		}
	}
	return b.String()
}

// Cucumber JSON (the format cucumber's HTML and CI plugins read), in the
// shape godog's and cucumber-js's formatters write: real URIs and lines
// for features, scenarios, steps and tags; the screenshots embedded in the
// failing step.
type cukeFeature struct {
	URI         string       `json:"uri"`
	ID          string       `json:"id"`
	Keyword     string       `json:"keyword"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Line        int          `json:"line"`
	Tags        []cukeTag    `json:"tags,omitempty"`
	Elements    []cukeScenar `json:"elements"`
}

type cukeScenar struct {
	ID          string     `json:"id"`
	Keyword     string     `json:"keyword"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Line        int        `json:"line"`
	Type        string     `json:"type"`
	Tags        []cukeTag  `json:"tags,omitempty"`
	Steps       []cukeStep `json:"steps"`
}

type cukeTag struct {
	Name string `json:"name"`
	Line int    `json:"line"`
}

type cukeStep struct {
	Keyword    string          `json:"keyword"`
	Name       string          `json:"name"`
	Line       int             `json:"line"`
	Match      cukeMatch       `json:"match"`
	Result     cukeResult      `json:"result"`
	Embeddings []cukeEmbedding `json:"embeddings,omitempty"`
}

type cukeMatch struct {
	Location string `json:"location"`
}

type cukeResult struct {
	Status   string `json:"status"`
	Duration int64  `json:"duration,omitempty"`
	Error    string `json:"error_message,omitempty"`
}

type cukeEmbedding struct {
	MimeType string `json:"mime_type"`
	Data     string `json:"data"`
	Name     string `json:"name,omitempty"`
}

var nonID = regexp.MustCompile(`[^a-z0-9]+`)

func cukeID(s string) string {
	return strings.Trim(nonID.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// WriteCucumberJSON writes cucumber JSON. Step results are as they ran;
// steps that did not run are skipped; the scenario's status and reason go
// in its description, so every scenario of the suite is accounted for,
// the not-applicable ones (with their steps skipped) included.
func (r *Report) WriteCucumberJSON(path string) error {
	return writeFile(path, r.cucumber)
}

func (r *Report) cucumber(w io.Writer) error {
	sources := &featureSources{files: r.FeatureFS, byURI: map[string]*featureSource{}}
	var features []cukeFeature
	idx := map[string]int{}
	for _, s := range r.Scenarios() {
		key := s.FeatureURI + "\x00" + s.Feature
		src := sources.get(s.FeatureURI)
		i, ok := idx[key]
		if !ok {
			i = len(features)
			idx[key] = i
			f := cukeFeature{URI: s.FeatureURI, ID: cukeID(s.Feature), Keyword: "Feature", Name: s.Feature, Line: 1, Elements: []cukeScenar{}}
			if src != nil {
				f.Keyword, f.Line = src.doc.Feature.Keyword, int(src.doc.Feature.Location.Line)
				f.Description = strings.TrimSpace(src.doc.Feature.Description)
				for _, t := range src.doc.Feature.Tags {
					f.Tags = append(f.Tags, cukeTag{Name: t.Name, Line: int(t.Location.Line)})
				}
			}
			features = append(features, f)
		}
		features[i].Elements = append(features[i].Elements, cukeElement(s, src))
	}
	if features == nil {
		features = []cukeFeature{}
	}
	// Cucumber JSON has no place for the run as a whole: every feature
	// says that the run was cut short, even when no scenario was under way
	// at the time and so none is marked not run.
	if why := r.Interrupted(); why != "" {
		for i := range features {
			features[i].Description = strings.TrimSpace("INTERRUPTED (" + why + "): a partial report.\n\n" + features[i].Description)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(features)
}

func cukeElement(s ScenarioRecord, src *featureSource) cukeScenar {
	desc := "status: " + s.Status.Label()
	if s.Status == StatusNotRun {
		desc = "INTERRUPTED, " + desc
	}
	if s.Reason != "" {
		desc += " — " + s.Reason
	}
	el := cukeScenar{ID: cukeID(s.Feature) + ";" + cukeID(s.Name), Keyword: "Scenario", Name: s.Name, Description: desc, Type: "scenario", Steps: []cukeStep{}}
	var pk *messages.Pickle
	if src != nil {
		pk = src.pickle(s)
	}
	if pk == nil {
		for _, t := range s.Tags {
			el.Tags = append(el.Tags, cukeTag{Name: t})
		}
		for _, st := range s.Steps {
			el.Steps = append(el.Steps, cukeStep{Keyword: st.Keyword + " ", Name: st.Text, Result: cukeResult{Status: string(st.Status), Duration: st.Duration.Nanoseconds(), Error: st.Error}})
		}
	} else {
		el.Line = src.line(pk)
		if len(pk.AstNodeIds) > 1 {
			el.Keyword = "Scenario Outline"
		}
		for _, t := range pk.Tags {
			el.Tags = append(el.Tags, cukeTag{Name: t.Name, Line: src.lines[t.AstNodeId]})
		}
		for j, ps := range pk.Steps {
			step := cukeStep{Keyword: src.keyword[ps.AstNodeIds[0]], Name: ps.Text, Line: src.lines[ps.AstNodeIds[0]], Result: cukeResult{Status: string(StepSkipped)}}
			step.Match.Location = fmt.Sprintf("%s:%d", s.FeatureURI, step.Line)
			if j < len(s.Steps) {
				st := s.Steps[j]
				step.Result = cukeResult{Status: string(st.Status), Duration: st.Duration.Nanoseconds(), Error: st.Error}
			}
			el.Steps = append(el.Steps, step)
		}
	}
	if len(s.Screenshots) > 0 && len(el.Steps) > 0 {
		// On the failing step, where cucumber-js attaches them; else the last.
		at := len(el.Steps) - 1
		for j, st := range el.Steps {
			if st.Result.Status == string(StepFailed) {
				at = j
				break
			}
		}
		for _, sh := range s.Screenshots {
			el.Steps[at].Embeddings = append(el.Steps[at].Embeddings, cukeEmbedding{MimeType: "image/png", Data: base64.StdEncoding.EncodeToString(sh.PNG), Name: sh.Caption})
		}
	}
	return el
}
