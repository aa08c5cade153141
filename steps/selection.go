package steps

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing/fstest"

	gherkin "github.com/cucumber/gherkin/go/v42"
	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v34"
)

// shippedRoot is where the shipped features appear in a run's file system,
// so that their URIs in reports and in LOCATION arguments are the paths of
// the repository ("features/discovery.feature:12").
const shippedRoot = "features"

// featureFiles puts the shipped features under features/ and each of the
// user's directories beside them, under the path the user gave (or its base
// name, when that path leaves the working directory). It returns the
// file system and its roots.
func featureFiles(shipped fs.FS, extra []string) (fs.FS, []string, error) {
	files := fstest.MapFS{}
	add := func(src fs.FS, root string) (int, error) {
		n := 0
		err := fs.WalkDir(src, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(name, ".feature") {
				return err
			}
			data, err := fs.ReadFile(src, name)
			if err != nil {
				return err
			}
			files[path.Join(root, name)] = &fstest.MapFile{Data: data, Mode: 0o444}
			n++
			return nil
		})
		return n, err
	}
	if _, err := add(shipped, shippedRoot); err != nil {
		return nil, nil, fmt.Errorf("reading the shipped features: %w", err)
	}
	roots := []string{shippedRoot}
	for _, dir := range extra {
		root := filepath.ToSlash(filepath.Clean(dir))
		if !fs.ValidPath(root) || root == "." || root == shippedRoot || slices.Contains(roots, root) {
			root = "local/" + filepath.Base(dir)
		}
		n, err := add(os.DirFS(dir), root)
		if err != nil {
			return nil, nil, fmt.Errorf("--features %s: %w", dir, err)
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("--features %s: no .feature files in it", dir)
		}
		roots = append(roots, root)
	}
	return files, roots, nil
}

// Selection narrows a run to some scenarios, as cucumber's and godog's
// command lines do.
type Selection struct {
	// Name keeps the scenarios whose name matches this regular expression.
	Name string
	// Locations keep the scenarios at FILE:LINE (the line of a Scenario,
	// Scenario Outline or Examples row) or in FILE.
	Locations []string
}

func (s Selection) empty() bool { return s.Name == "" && len(s.Locations) == 0 }

// godogPaths turns the selection into godog's paths, FILE:LINE per
// selected scenario (godog has no name filter). An outline is selected
// whole when one of its examples is.
func (s Selection) godogPaths(files fs.FS, roots []string) ([]string, error) {
	if s.empty() {
		return roots, nil
	}
	var name *regexp.Regexp
	if s.Name != "" {
		re, err := regexp.Compile(s.Name)
		if err != nil {
			return nil, fmt.Errorf("--name: %w", err)
		}
		name = re
	}
	type location struct {
		file string
		line int // 0: the whole file
	}
	var locs []location
	for _, l := range s.Locations {
		file, line := l, 0
		if i := strings.LastIndex(l, ":"); i > 0 {
			n, err := strconv.Atoi(l[i+1:])
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%s: want FILE.feature or FILE.feature:LINE", l)
			}
			file, line = l[:i], n
		}
		file = filepath.ToSlash(filepath.Clean(file))
		if _, err := fs.Stat(files, file); err != nil {
			return nil, fmt.Errorf("%s: no such feature file (the shipped ones are under %s/)", l, shippedRoot)
		}
		locs = append(locs, location{file, line})
	}

	var paths []string
	for _, root := range roots {
		err := fs.WalkDir(files, root, func(file string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(file, ".feature") {
				return err
			}
			data, err := fs.ReadFile(files, file)
			if err != nil {
				return err
			}
			doc, err := gherkin.ParseGherkinDocument(strings.NewReader(string(data)), (&messages.Incrementing{}).NewId)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			scenarioLine, rowLine := astLines(doc)
			for _, pk := range gherkin.Pickles(*doc, file, (&messages.Incrementing{}).NewId) {
				line := scenarioLine[pk.AstNodeIds[0]]
				if name != nil && !name.MatchString(pk.Name) {
					continue
				}
				if len(locs) > 0 && !slices.ContainsFunc(locs, func(l location) bool {
					if l.file != file {
						return false
					}
					return l.line == 0 || l.line == line || (len(pk.AstNodeIds) > 1 && l.line == rowLine[pk.AstNodeIds[1]])
				}) {
					continue
				}
				if p := file + ":" + strconv.Itoa(line); !slices.Contains(paths, p) {
					paths = append(paths, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no scenario matches the selection (%s)", s)
	}
	return paths, nil
}

func (s Selection) String() string {
	var parts []string
	if s.Name != "" {
		parts = append(parts, "--name "+s.Name)
	}
	return strings.Join(append(parts, s.Locations...), " ")
}

// astLines maps the AST ids of scenarios and examples rows to their lines.
func astLines(doc *messages.GherkinDocument) (scenario, row map[string]int) {
	scenario, row = map[string]int{}, map[string]int{}
	addScenario := func(sc *messages.Scenario) {
		if sc == nil {
			return
		}
		scenario[sc.Id] = int(sc.Location.Line)
		for _, ex := range sc.Examples {
			for _, r := range ex.TableBody {
				row[r.Id] = int(r.Location.Line)
			}
		}
	}
	if doc.Feature == nil {
		return
	}
	for _, c := range doc.Feature.Children {
		addScenario(c.Scenario)
		if c.Rule != nil {
			for _, rc := range c.Rule.Children {
				addScenario(rc.Scenario)
			}
		}
	}
	return
}

// selected counts the scenarios the suite will run: its paths and tags
// applied, the scenarios that cannot apply excluded.
func selected(suite godog.TestSuite) (int, error) {
	feats, err := suite.RetrieveFeatures()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range feats {
		n += len(f.Pickles)
	}
	return n, nil
}
