package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShippedProfilesLoad(t *testing.T) {
	ps, err := LoadProfiles("../../fixtures/profiles")
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
	ps, err := LoadProfiles("../../fixtures/profiles")
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
	_, err := ParseProfile([]byte(good))
	require.NoError(t, err)

	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"empty", `{}`, []string{"name: is required", "detect: needs", "login.username: is required", "login.password: is required", "login.submit: is required", "consent.approve: is required", "error_page: needs"}},
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
			_, err := ParseProfile([]byte(tt.yaml))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadProfilesErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadProfiles(dir)
	require.ErrorContains(t, err, "no *.yaml files")

	p := `
name: same
detect: {selector: "#f"}
login: {username: "#u", password: "#p", submit: "#s"}
consent: {approve: "#a"}
error_page: {selector: "#e"}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(p), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(p), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("name: c\n"), 0o644))
	_, err = LoadProfiles(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `profile name "same" already used by`)
	assert.Contains(t, err.Error(), "profile c (")
	assert.Contains(t, err.Error(), "c.yaml")
}
