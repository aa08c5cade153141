package report

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// coverageReport has scenarios of every status citing two catalogued
// sections, one uncatalogued section, and a section no scenario cites.
func coverageReport() *Report {
	r := New("oauthtrio conformance", "https://idp.example.org")
	r.Sections = []Section{
		{Tag: "RFC6749-4.1.2", Level: "MUST", Text: "A code is single-use."},
		{Tag: "RFC7009-2", Level: "SHOULD", Text: "Access tokens can be revoked."},
		{Tag: "OIDCC-5.4", Level: "SHOULD", Text: "Scopes release claims."},
	}
	r.ExpectedFailure = func(name string, _ []string) (string, bool) { return "known", name == "expected" }
	finish := func(name string, tags []string, err error) {
		s := r.Start(name, "F", tags)
		s.Finish(err)
	}
	fail := errors.New("refused")
	finish("passed", []string{"@RFC6749-4.1.2", "@negative", "@needs:browser"}, nil)
	finish("failed", []string{"@RFC6749-4.1.2", "@RFC6749-4.1.2"}, fail)
	finish("expected", []string{"@RFC6749-4.1.2"}, fail)
	finish("warned", []string{"@should", "@RFC7009-2", "@RFC6749-4.1.2"}, fail)
	r.AddNotApplicable("n/a", "F", []string{"@RFC7009-2", "@needs:revocation"}, "no revocation_endpoint")
	finish("extra", []string{"@RFC6750-3"}, nil)
	return r
}

func TestCoverageCountsEachSection(t *testing.T) {
	r := coverageReport()
	rows := Coverage(r.Sections, r.Scenarios(), func(tag string) bool { _, ok := SpecURL(tag); return ok })
	require.Len(t, rows, 4)
	byTag := map[string]SectionCoverage{}
	for _, row := range rows {
		byTag[row.Tag] = row
	}
	assert.Equal(t, Counts{Total: 4, Passed: 1, Failed: 1, Warnings: 1, ExpectedFailures: 1}, byTag["RFC6749-4.1.2"].Counts, "a tag cited twice counts once")
	assert.Equal(t, Counts{Total: 2, Warnings: 1, NotApplicable: 1}, byTag["RFC7009-2"].Counts)
	assert.Equal(t, Counts{}, byTag["OIDCC-5.4"].Counts)
	assert.True(t, byTag["RFC6750-3"].Uncatalogued)
	assert.Equal(t, "RFC6750-3", rows[3].Tag, "uncatalogued sections come last")
	assert.Equal(t, "https://www.rfc-editor.org/rfc/rfc7009#section-2", byTag["RFC7009-2"].URL)
}

func TestHTMLCoverageTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	require.NoError(t, coverageReport().WriteHTML(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	h := string(data)
	assert.Contains(t, h, `<details class="coverage" id="coverage" open>`, "opened when a section has a failure")
	row := func(tag string) string {
		m := regexp.MustCompile(`<tr[^>]*><td><a href="[^"]*"[^>]*>` + regexp.QuoteMeta(tag) + `</a></td>.*</tr>`).FindString(h)
		require.NotEmpty(t, m, "no coverage row for %s", tag)
		return m
	}
	cells := func(tag string) string {
		var n []string
		for _, m := range regexp.MustCompile(`<td class="n[^"]*">(\d+)</td>`).FindAllStringSubmatch(row(tag), -1) {
			n = append(n, m[1])
		}
		return strings.Join(n, " ")
	}
	// passed, failed, warnings, not applicable, expected failures
	assert.Equal(t, "1 1 1 0 1", cells("RFC6749-4.1.2"))
	assert.Equal(t, "0 0 1 1 0", cells("RFC7009-2"))
	assert.Equal(t, "0 0 0 0 0", cells("OIDCC-5.4"))
	assert.Contains(t, row("OIDCC-5.4"), `class="unrun"`)
	assert.Contains(t, row("RFC6750-3"), "not in the requirements catalogue")
	assert.Contains(t, row("RFC6749-4.1.2"), `<td class="n failed">1</td>`)
}

func TestHTMLWithoutCatalogueHasNoCoverageTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	r := coverageReport()
	r.Sections = nil
	require.NoError(t, r.WriteHTML(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), `table class="coverage"`)
}
