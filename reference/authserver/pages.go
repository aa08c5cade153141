package authserver

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

//go:embed templates/*.html
var templateFS embed.FS

// LoginPage is what the login page shows.
type LoginPage struct {
	ClientName  string
	Action      string
	Interaction string
	CSRFToken   string
	Username    string
	Error       string
	// ErrorCode is the spec's error code behind Error, when there is one,
	// such as temporarily_unavailable for a throttled attempt.
	ErrorCode string
	// RetryAfter, in seconds, marks a throttled attempt (HTTP 429).
	RetryAfter int
}

// ConsentPage is what the consent page shows.
type ConsentPage struct {
	ClientName  string
	Username    string
	Scopes      []ScopeDescription
	Action      string
	Interaction string
	CSRFToken   string
}

// ErrorPage is shown instead of redirecting when the redirect URI cannot be
// trusted (RFC 6749 §4.1.2.1).
type ErrorPage struct {
	Code        string
	Description string
}

// LogoutConfirmPage asks the user to confirm a logout request that carries
// no valid id_token_hint (RP-Initiated Logout 1.0 §2).
type LogoutConfirmPage struct {
	Action                string
	CSRFToken             string
	ClientID, ClientName  string
	PostLogoutRedirectURI string
	State                 string
}

// Pages renders the default HTML pages. It is also the default
// LoginDisplay and PermissionsDisplay.
type Pages struct {
	login, consent, errorPage, logout, logoutConfirm *template.Template
}

// NewPages parses the embedded templates.
func NewPages() (*Pages, error) {
	parse := func(name string) (*template.Template, error) {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("authserver: template %s: %w", name, err)
		}
		return t.Lookup(name), nil
	}
	p := &Pages{}
	var err error
	for name, dst := range map[string]**template.Template{
		"login.html": &p.login, "consent.html": &p.consent, "error.html": &p.errorPage, "logout.html": &p.logout,
		"logout-confirm.html": &p.logoutConfirm,
	} {
		if *dst, err = parse(name); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// render executes into a buffer first so a template error never leaves a
// half-written page.
func render(w http.ResponseWriter, status int, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	if fault.On("page-framable") {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Del("X-Frame-Options")
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// DisplayLogin implements LoginDisplay.
func (p *Pages) DisplayLogin(w http.ResponseWriter, _ *http.Request, page LoginPage) error {
	status := http.StatusOK
	switch {
	case page.RetryAfter > 0:
		// RFC 6585 §4.
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(page.RetryAfter))
	case page.Error != "":
		status = http.StatusUnauthorized
	}
	return render(w, status, p.login, page)
}

// DisplayPermissions implements PermissionsDisplay.
func (p *Pages) DisplayPermissions(w http.ResponseWriter, _ *http.Request, page ConsentPage) error {
	return render(w, http.StatusOK, p.consent, page)
}

func (p *Pages) displayError(w http.ResponseWriter, status int, page ErrorPage) {
	if err := render(w, status, p.errorPage, page); err != nil {
		http.Error(w, page.Code, status)
	}
}

func (p *Pages) displayLogout(w http.ResponseWriter) {
	if err := render(w, http.StatusOK, p.logout, nil); err != nil {
		http.Error(w, "signed out", http.StatusOK)
	}
}

func (p *Pages) displayLogoutConfirm(w http.ResponseWriter, page LogoutConfirmPage) {
	if err := render(w, http.StatusOK, p.logoutConfirm, page); err != nil {
		http.Error(w, "confirm the logout", http.StatusInternalServerError)
	}
}
