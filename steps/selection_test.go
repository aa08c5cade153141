package steps

import (
	"strings"
	"testing"
	"testing/fstest"
)

const sampleFeature = `Feature: Sample

  Scenario: Discovery answers
    When the suite fetches the discovery document

  Scenario Outline: Grant <grant> is refused
    When the client asks for <grant>

    Examples:
      | grant    |
      | password |
      | implicit |
`

func TestSelectionPaths(t *testing.T) {
	files, roots, err := featureFiles(fstest.MapFS{"sample.feature": {Data: []byte(sampleFeature)}}, []string{"../testdata/my-features"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"features", "local/my-features"}; strings.Join(roots, " ") != strings.Join(want, " ") {
		t.Fatalf("roots %v, want %v", roots, want)
	}
	tests := []struct {
		name    string
		sel     Selection
		want    string
		wantErr string
	}{
		{"everything", Selection{}, "features local/my-features", ""},
		{"by name", Selection{Name: "^Discovery"}, "features/sample.feature:3", ""},
		{"by name, an outline's example", Selection{Name: "implicit"}, "features/sample.feature:6", ""},
		{"by name, the user's feature too", Selection{Name: "keys|Discovery"}, "features/sample.feature:3 local/my-features/house_rules.feature:6", ""},
		{"by scenario line", Selection{Locations: []string{"features/sample.feature:6"}}, "features/sample.feature:6", ""},
		{"by examples row", Selection{Locations: []string{"features/sample.feature:12"}}, "features/sample.feature:6", ""},
		{"by file", Selection{Locations: []string{"features/sample.feature"}}, "features/sample.feature:3 features/sample.feature:6", ""},
		{"name and line together", Selection{Name: "Discovery", Locations: []string{"features/sample.feature:6"}}, "", "no scenario matches"},
		{"a line with no scenario", Selection{Locations: []string{"features/sample.feature:2"}}, "", "no scenario matches"},
		{"no such file", Selection{Locations: []string{"features/nope.feature:3"}}, "", "no such feature file"},
		{"a bad line", Selection{Locations: []string{"features/sample.feature:x"}}, "", "want FILE.feature or FILE.feature:LINE"},
		{"a bad regexp", Selection{Name: "("}, "", "--name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sel.godogPaths(files, roots)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("paths %v, want %s", got, tt.want)
			}
		})
	}
}

func TestFeatureFilesRefusesAnEmptyDirectory(t *testing.T) {
	if _, _, err := featureFiles(fstest.MapFS{}, []string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no .feature files") {
		t.Errorf("error %v, want one saying the directory has no .feature files", err)
	}
}
