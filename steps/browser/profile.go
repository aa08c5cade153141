package browser

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A Profile tells the driver how one kind of authorization server draws its
// login, consent and error pages. Profiles are data (fixtures/profiles/*.yaml)
// because deployments override these pages: a new provider needs a file, not
// code. Selectors are CSS; patterns are Go regular expressions.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`

	// Detect recognises the provider from its login page.
	Detect DetectRule `yaml:"detect"`

	Login   LoginPage   `yaml:"login"`
	Consent ConsentPage `yaml:"consent"`

	// LoginError is the selector of the marker shown after a wrong password.
	// Empty when the provider shows none.
	LoginError string `yaml:"login_error"`
	// RefusedLoginReturnsToLogin says that a refused login draws the login
	// page again: a login page after submitting credentials then counts as
	// a refusal even without the LoginError marker, for providers whose
	// marker is unknown or unconfirmed.
	RefusedLoginReturnsToLogin bool `yaml:"refused_login_returns_to_login"`
	// AcceptsAnyPassword is set for development providers that log anyone
	// in, so wrong-password scenarios cannot apply to them.
	AcceptsAnyPassword bool `yaml:"accepts_any_password"`

	// ErrorPage recognises the page a provider shows instead of redirecting,
	// e.g. for an unregistered redirect_uri.
	ErrorPage Marker `yaml:"error_page"`

	file string
	re   compiled
}

// DetectRule holds the signs of a provider's login page; every sign given must hold.
type DetectRule struct {
	URLPattern string `yaml:"url_pattern"`
	Selector   string `yaml:"selector"`
	// Fallback profiles fit many providers' pages (a generic login form);
	// detection picks one only when no other profile matches.
	Fallback bool `yaml:"fallback"`
}

// LoginPage holds the selectors of the login form.
type LoginPage struct {
	// URLPattern, when set, must match the page URL too.
	URLPattern string `yaml:"url_pattern"`
	// Form is present only while the login page shows (default: Username).
	Form     string `yaml:"form"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Submit   string `yaml:"submit"`
}

// ConsentPage holds the selectors of the consent form.
type ConsentPage struct {
	URLPattern string `yaml:"url_pattern"`
	// Form is present only while the consent page shows (default: Approve).
	Form    string `yaml:"form"`
	Approve string `yaml:"approve"`
	Deny    string `yaml:"deny"`
}

// Marker recognises a page by a selector, a pattern over its visible text,
// a pattern over its URL, or several of them (all must hold).
type Marker struct {
	Selector    string `yaml:"selector"`
	TextPattern string `yaml:"text_pattern"`
	URLPattern  string `yaml:"url_pattern"`
}

func (m Marker) empty() bool { return m.Selector == "" && m.TextPattern == "" && m.URLPattern == "" }

type compiled struct {
	detectURL, loginURL, consentURL, errorURL, errorText *regexp.Regexp
}

// Path returns the file the profile was loaded from, if any.
func (p *Profile) Path() string { return p.file }

// LoginMarker returns the selector whose presence means the login page shows.
func (p *Profile) LoginMarker() string {
	if p.Login.Form != "" {
		return p.Login.Form
	}
	return p.Login.Username
}

// ConsentMarker returns the selector whose presence means the consent page
// shows; empty for a provider without a consent page.
func (p *Profile) ConsentMarker() string {
	if p.Consent.Form != "" {
		return p.Consent.Form
	}
	return p.Consent.Approve
}

// DetectsLoginFailure reports whether wrong-password scenarios can run with
// this profile: the provider refuses wrong passwords and shows a marker or
// the login page again.
func (p *Profile) DetectsLoginFailure() bool {
	return (p.LoginError != "" || p.RefusedLoginReturnsToLogin) && !p.AcceptsAnyPassword
}

// Validate checks the profile and compiles its patterns. Every problem is
// reported, each naming its field.
func (p *Profile) Validate() error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, fmt.Errorf("%s: %s", field, msg)) }
	compile := func(field, pattern string) *regexp.Regexp {
		if pattern == "" {
			return nil
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			bad(field, "not a valid regular expression: "+err.Error())
		}
		return re
	}
	if p.Name == "" {
		bad("name", "is required")
	} else if !regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`).MatchString(p.Name) {
		bad("name", fmt.Sprintf("%q must be lower-case letters, digits, '-' or '_'", p.Name))
	}
	if p.Detect.URLPattern == "" && p.Detect.Selector == "" {
		bad("detect", "needs url_pattern or selector (or both)")
	}
	for field, v := range map[string]string{"login.username": p.Login.Username, "login.password": p.Login.Password, "login.submit": p.Login.Submit} {
		if strings.TrimSpace(v) == "" {
			bad(field, "is required")
		}
	}
	// A provider may show no consent page; a consent section then must not
	// be half there.
	if p.Consent != (ConsentPage{}) && strings.TrimSpace(p.Consent.Approve) == "" {
		bad("consent.approve", "is required when the consent section is given (leave the section out for a provider without a consent page)")
	}
	if p.ErrorPage.empty() {
		bad("error_page", "needs selector, text_pattern or url_pattern")
	}
	p.re = compiled{
		detectURL:  compile("detect.url_pattern", p.Detect.URLPattern),
		loginURL:   compile("login.url_pattern", p.Login.URLPattern),
		consentURL: compile("consent.url_pattern", p.Consent.URLPattern),
		errorURL:   compile("error_page.url_pattern", p.ErrorPage.URLPattern),
		errorText:  compile("error_page.text_pattern", p.ErrorPage.TextPattern),
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		where := "profile " + p.Name
		if p.file != "" {
			where += " (" + p.file + ")"
		}
		return fmt.Errorf("%s: %w", where, errors.Join(errs...))
	}
	return nil
}

// parseProfile reads one profile from YAML and validates it. Unknown
// fields are errors, so a misspelt selector key does not silently do
// nothing.
func parseProfile(data []byte, file string) (*Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if file != "" {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return nil, fmt.Errorf("profile: %w", err)
	}
	p.file = file
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// ReadProfileFile reads one profile from a YAML file, for a provider whose
// pages no shipped profile describes.
func ReadProfileFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("login profile: %w", err)
	}
	return parseProfile(data, path)
}

// LoadProfiles reads every *.yaml file in dir of fsys, keyed by profile
// name. Two files naming the same profile are an error: which one would
// win is not something a user should have to guess.
func LoadProfiles(fsys fs.FS, dir string) (map[string]*Profile, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("profiles: no *.yaml files in %s", dir)
	}
	out := make(map[string]*Profile, len(files))
	var errs []error
	for _, f := range files { // fs.Glob sorts them
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, err := parseProfile(data, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := out[p.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: profile name %q already used by %s", f, p.Name, prev.file))
			continue
		}
		out[p.Name] = p
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("profiles: %w", errors.Join(errs...))
	}
	return out, nil
}
