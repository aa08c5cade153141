package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/fixtures"
)

func TestShippedProfilesLoad(t *testing.T) {
	ps, err := LoadProfiles(fixtures.Profiles, "profiles")
	require.NoError(t, err)
	for _, name := range []string{"reference", "iris", "node-oidc-provider"} {
		require.Contains(t, ps, name)
	}
	ref := ps["reference"]
	assert.Equal(t, "#login-form", ref.LoginMarker())
	assert.Equal(t, "#consent-form", ref.ConsentMarker())
	assert.True(t, ref.DetectsLoginFailure())
	assert.False(t, ps["node-oidc-provider"].DetectsLoginFailure(), "devInteractions accepts any password")
	assert.True(t, ps["iris"].DetectsLoginFailure())
}

// The IRIS class reference documents the names of the login and
// permissions fields and buttons, nothing else: the iris profile selects by
// those names only, and detects a refused login without the undocumented
// error marker.
func TestIRISProfileUsesDocumentedNames(t *testing.T) {
	ps, err := LoadProfiles(fixtures.Profiles, "profiles")
	require.NoError(t, err)
	p := ps["iris"]
	require.NotNil(t, p)
	for field, sel := range map[string]string{
		"detect.selector": p.Detect.Selector,
		"login.form":      p.Login.Form, "login.username": p.Login.Username, "login.password": p.Login.Password, "login.submit": p.Login.Submit,
		"consent.form": p.Consent.Form, "consent.approve": p.Consent.Approve, "consent.deny": p.Consent.Deny,
	} {
		assert.Regexp(t, `^\[name="(Username|Password|Login|Accept|Cancel)"\]$`, sel, field)
	}
	assert.True(t, p.RefusedLoginReturnsToLogin, "the .errorCode marker is not documented")
}

func TestProfileValidation(t *testing.T) {
	const good = `
name: good
detect: {selector: "#f"}
login: {username: "#u", password: "#p", submit: "#s"}
consent: {approve: "#a"}
error_page: {selector: "#e"}
`
	_, err := parseProfile([]byte(good), "")
	require.NoError(t, err)
	// A provider without a consent page needs no consent section.
	_, err = parseProfile([]byte(strings.Replace(good, "consent: {approve: \"#a\"}\n", "", 1)), "")
	require.NoError(t, err)

	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"empty", `{}`, []string{"name: is required", "detect: needs", "login.username: is required", "login.password: is required", "login.submit: is required", "error_page: needs"}},
		{"half a consent section", strings.Replace(good, `consent: {approve: "#a"}`, `consent: {deny: "#d"}`, 1), []string{"consent.approve: is required when the consent section is given"}},
		{"bad name", `name: "Bad Name"` + "\n" + good[len("\nname: good"):], []string{`name: "Bad Name" must be lower-case`}},
		{"bad regexp", strings.Replace(good, `error_page: {selector: "#e"}`, `error_page: {text_pattern: "("}`, 1), []string{"error_page.text_pattern: not a valid regular expression"}},
		{"bad detect regexp", `
name: x
detect: {url_pattern: "[a"}
login: {username: "#u", password: "#p", submit: "#s"}
consent: {approve: "#a"}
error_page: {selector: "#e"}`, []string{"detect.url_pattern: not a valid regular expression"}},
		{"unknown field", good + "\nlogin_eror: \"#x\"", []string{"field login_eror not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseProfile([]byte(tt.yaml), "")
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadProfilesErrors(t *testing.T) {
	const same = `
name: same
detect: {selector: "#f"}
login: {username: "#u", password: "#p", submit: "#s"}
consent: {approve: "#a"}
error_page: {selector: "#e"}
`
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string
	}{
		{"no files", fstest.MapFS{"profiles/readme.txt": {Data: []byte("x")}}, []string{"no *.yaml files in profiles"}},
		{"duplicate name", fstest.MapFS{
			"profiles/a.yaml": {Data: []byte(same)},
			"profiles/b.yaml": {Data: []byte(same)},
		}, []string{`profiles/b.yaml: profile name "same" already used by profiles/a.yaml`}},
		{"invalid profile", fstest.MapFS{
			"profiles/a.yaml": {Data: []byte(same)},
			"profiles/c.yaml": {Data: []byte("name: c\n")},
		}, []string{"profile c (", "c.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := LoadProfiles(tt.files, "profiles")
			require.Error(t, err)
			assert.Nil(t, ps)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestReadProfileFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "mine.yaml")
	require.NoError(t, os.WriteFile(good, []byte(`
name: mine
detect: {selector: "#f"}
login: {username: "#u", password: "#p", submit: "#s"}
error_page: {text_pattern: "(?i)error"}
`), 0o600))
	p, err := ReadProfileFile(good)
	require.NoError(t, err)
	assert.Equal(t, "mine", p.Name)
	assert.Empty(t, p.ConsentMarker(), "a profile without a consent section has no consent page")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: bad\nlogin: {username: \"#u\"}\n"), 0o600))
	_, err = ReadProfileFile(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad, "the error names the file")
	_, err = ReadProfileFile(filepath.Join(dir, "missing.yaml"))
	assert.Error(t, err)
}
