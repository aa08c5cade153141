package browser

import (
	"context"
	"crypto/rand"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/fixtures"
)

// plainLike serves testdata/plain-login.html: GET /authorize shows the
// login form, POST /login the consent form, POST /consent redirects.
type plainLike struct {
	*httptest.Server
	page *template.Template

	mu    sync.Mutex
	flows map[string]url.Values
}

func startPlainLike(t *testing.T) *plainLike {
	t.Helper()
	f := &plainLike{page: template.Must(template.ParseFiles("testdata/plain-login.html")), flows: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		flow := rand.Text()
		f.mu.Lock()
		f.flows[flow] = r.URL.Query()
		f.mu.Unlock()
		f.render(w, map[string]any{"Flow": flow})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		flow := r.PostForm.Get("flow")
		if r.PostForm.Get("login") != "developer@example.org" || r.PostForm.Get("secret") != "test" {
			f.render(w, map[string]any{"Flow": flow, "Error": template.HTML(`<p class="error">That did not work.</p>`)})
			return
		}
		f.render(w, map[string]any{"Flow": flow, "Consent": true, "Client": "plain-client"})
	})
	mux.HandleFunc("POST /consent", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		req := f.flows[r.PostForm.Get("flow")]
		f.mu.Unlock()
		q := url.Values{"state": {req.Get("state")}}
		if r.PostForm.Get("choice") == "Allow access" {
			q.Set("code", "plain-code")
		} else {
			q.Set("error", "access_denied")
		}
		http.Redirect(w, r, req.Get("redirect_uri")+"?"+q.Encode(), http.StatusFound)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *plainLike) render(w http.ResponseWriter, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = f.page.Execute(w, data)
}

// TestGenericFormProfile drives three differently drawn login and consent
// pages with the generic-form profile alone: the suite's fake issuer
// (untyped text input, buttons told apart by value), the IRIS-like pages
// (three submit buttons, no ids) and a hand-written page (an e-mail field,
// a button without a type, a search form before the login form).
func TestGenericFormProfile(t *testing.T) {
	ps, err := LoadProfiles(fixtures.Profiles, "profiles")
	require.NoError(t, err)
	p := ps["generic-form"]
	require.NotNil(t, p)

	type page struct {
		name, user, password string
		authURL              func(redirect, state string) string
	}
	testBrowser(t) // starts the shared fake issuer
	shared := sharedIssuer
	iris := startIRISLike(t, "")
	plain := startPlainLike(t)
	pages := []page{
		{"fake issuer", "alice", "wonderland", func(redirect, state string) string {
			return authURL(shared.URL, "good-client", redirect, state)
		}},
		{"IRIS-like", "developer", "test", func(redirect, state string) string {
			return iris.URL + "/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"iris-client"}, "redirect_uri": {redirect}, "state": {state}}.Encode()
		}},
		{"hand-written", "developer@example.org", "test", func(redirect, state string) string {
			return plain.URL + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"plain-client"}, "redirect_uri": {redirect}, "state": {state}}.Encode()
		}},
	}
	for _, pg := range pages {
		for _, tt := range []struct {
			name     string
			password string
			deny     bool
			want     string // "" means the login is refused
		}{
			{"approve", pg.password, false, "code"},
			{"deny", pg.password, true, "error"},
			{"wrong password", "not-" + pg.password, false, ""},
		} {
			t.Run(pg.name+"/"+tt.name, func(t *testing.T) {
				s := newSession(t)
				cb, _ := callbackServer(t)
				state := "st-" + tt.name
				res, err := s.Authorize(context.Background(), AuthorizeRequest{
					URL: pg.authURL(cb.URL+"/cb", state), RedirectPrefix: cb.URL + "/cb",
					Profile: p, Username: pg.user, Password: tt.password, DenyConsent: tt.deny,
				})
				require.NotNil(t, res)
				assert.True(t, res.LoginShown, "the login form was not recognised")
				if tt.want == "" {
					require.ErrorIs(t, err, ErrLoginFailed)
					return
				}
				require.NoError(t, err)
				u, err := url.Parse(res.RedirectURL)
				require.NoError(t, err)
				assert.NotEmpty(t, u.Query().Get(tt.want), res.RedirectURL)
				assert.Equal(t, state, u.Query().Get("state"))
			})
		}
	}
}

// TestGenericFormProfileIsOnlyAFallback checks that auto-detection picks
// a specific profile over the generic one when both fit the page.
func TestGenericFormProfileIsOnlyAFallback(t *testing.T) {
	ps, err := LoadProfiles(fixtures.Profiles, "profiles")
	require.NoError(t, err)
	s := newSession(t)
	cb, _ := callbackServer(t)
	iris := startIRISLike(t, "")
	res, err := s.Authorize(context.Background(), AuthorizeRequest{
		URL:            iris.URL + "/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"iris-client"}, "redirect_uri": {cb.URL + "/cb"}, "state": {"s"}}.Encode(),
		RedirectPrefix: cb.URL + "/cb", Profiles: ps, Username: "developer", Password: "test",
	})
	require.NoError(t, err)
	require.NotNil(t, res.Profile)
	assert.Equal(t, "iris", res.Profile.Name)

	plain := startPlainLike(t)
	res, err = s.Authorize(context.Background(), AuthorizeRequest{
		URL:            plain.URL + "/authorize?" + url.Values{"client_id": {"plain-client"}, "redirect_uri": {cb.URL + "/cb"}, "state": {"s"}}.Encode(),
		RedirectPrefix: cb.URL + "/cb", Profiles: ps, Username: "developer@example.org", Password: "test",
	})
	require.NoError(t, err)
	require.NotNil(t, res.Profile)
	assert.Equal(t, "generic-form", res.Profile.Name)
}
