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
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/fixtures"
)

// irisLike serves testdata/iris-login.html and iris-consent.html the way
// the IRIS authorization endpoint is described: /oauth2/authorize
// redirects to itself with an AuthorizationCode, the login form posts to
// the same URL, a good login answers with the consent page in the same
// response, a wrong one draws the login page again, and the consent form
// comes back by GET.
type irisLike struct {
	*httptest.Server
	login, consent *template.Template
	// refusal is drawn above the login form after a wrong password.
	refusal template.HTML

	mu       sync.Mutex
	requests map[string]url.Values
}

func startIRISLike(t *testing.T, refusal template.HTML) *irisLike {
	t.Helper()
	f := &irisLike{
		login:    template.Must(template.ParseFiles("testdata/iris-login.html")),
		consent:  template.Must(template.ParseFiles("testdata/iris-consent.html")),
		refusal:  refusal,
		requests: map[string]url.Values{},
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.authorize))
	t.Cleanup(f.Close)
	return f
}

func (f *irisLike) authorize(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/oauth2/authorize" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	code := r.Form.Get("AuthorizationCode")
	f.mu.Lock()
	req, known := f.requests[code]
	f.mu.Unlock()
	switch {
	case code == "":
		if r.Form.Get("client_id") != "iris-client" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Unexpected request - client_id</body></html>"))
			return
		}
		code = rand.Text()
		f.mu.Lock()
		f.requests[code] = r.Form
		f.mu.Unlock()
		http.Redirect(w, r, "/oauth2/authorize?"+url.Values{"AuthorizationCode": {code}, "stage": {"login:1"}}.Encode(), http.StatusFound)
	case !known:
		http.Error(w, "unknown AuthorizationCode", http.StatusBadRequest)
	case r.Method == http.MethodPost:
		if r.PostForm.Get("Login") == "" && r.PostForm.Get("Accept") == "" {
			http.Error(w, "server_error: Unexpected return from authenticate dialog", http.StatusInternalServerError)
			return
		}
		if r.PostForm.Get("Username") != "developer" || r.PostForm.Get("Password") != "test" {
			f.page(w, f.login, map[string]any{"Code": code, "Error": f.refusal})
			return
		}
		f.page(w, f.consent, map[string]any{"Code": code, "Client": "iris-client"})
	case r.Form.Get("Accept") != "":
		http.Redirect(w, r, req.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {req.Get("state")}}.Encode(), http.StatusFound)
	case r.Form.Get("Cancel") != "":
		http.Redirect(w, r, req.Get("redirect_uri")+"?"+url.Values{"error": {"access_denied"}, "state": {req.Get("state")}}.Encode(), http.StatusFound)
	default:
		f.page(w, f.login, map[string]any{"Code": code})
	}
}

func (f *irisLike) page(w http.ResponseWriter, t *template.Template, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = t.Execute(w, data)
}

func irisProfile(t *testing.T) *Profile {
	t.Helper()
	ps, err := LoadProfiles(fixtures.Profiles, "profiles")
	require.NoError(t, err)
	require.Contains(t, ps, "iris")
	return ps["iris"]
}

// The shipped iris profile drives the pages the class reference describes,
// using nothing it does not document.
func TestIRISProfileOnIRISLikePages(t *testing.T) {
	const marker = `<div class="errorCode">Access Denied! Sign in attempt 2</div>`
	const plain = `<p>アクセスが拒否されました</p>`
	tests := []struct {
		name     string
		refusal  template.HTML
		password string
		deny     bool
		// want is the redirect's parameter that must be set; "" means the
		// login is refused.
		want string
	}{
		{name: "approve", password: "test", want: "code"},
		{name: "deny", password: "test", deny: true, want: "error"},
		{name: "wrong password with the error marker", refusal: marker, password: "wrong"},
		{name: "wrong password without a known marker", refusal: plain, password: "wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t)
			cb, _ := callbackServer(t)
			iris := startIRISLike(t, tt.refusal)
			p := irisProfile(t)
			res, err := s.Authorize(context.Background(), AuthorizeRequest{
				URL:            iris.URL + "/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"iris-client"}, "redirect_uri": {cb.URL + "/cb"}, "state": {"st-" + tt.name}}.Encode(),
				RedirectPrefix: cb.URL + "/cb",
				Profile:        p,
				Username:       "developer",
				Password:       tt.password,
				DenyConsent:    tt.deny,
			})
			require.NotNil(t, res)
			assert.True(t, res.LoginShown)
			if tt.want == "" {
				require.ErrorIs(t, err, ErrLoginFailed)
				assert.False(t, res.ConsentShown)
				assert.True(t, s.LoginFailed(p), "the Then step must see the refusal")
				return
			}
			require.NoError(t, err)
			assert.True(t, res.ConsentShown)
			u, err := url.Parse(res.RedirectURL)
			require.NoError(t, err)
			assert.NotEmpty(t, u.Query().Get(tt.want), res.RedirectURL)
			assert.Equal(t, "st-"+tt.name, u.Query().Get("state"))
		})
	}
}

func TestIRISProfileDetectedAndErrorPage(t *testing.T) {
	s := newSession(t)
	iris := startIRISLike(t, "")
	ps, err := LoadProfiles(fixtures.Profiles, "profiles")
	require.NoError(t, err)
	require.NoError(t, s.Navigate(iris.URL+"/oauth2/authorize?client_id=iris-client&state=d&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb"))
	// Authorize's detection, on the page as it is.
	d := &driver{s: s, profiles: ps}
	err = s.poll("a page a login profile recognises", func(ctx context.Context) (bool, error) {
		st, err := s.sample(ctx, d.selectors())
		if err != nil {
			return false, err
		}
		d.detect(st)
		return d.p != nil, nil
	})
	require.NoError(t, err)
	p := d.p
	assert.Equal(t, "iris", p.Name)

	require.NoError(t, s.Navigate(iris.URL+"/oauth2/authorize?client_id=nobody&state=e"))
	assert.Eventually(t, func() bool { return s.OnErrorPage(p) }, s.ActionTimeout(), 100*time.Millisecond)
}

// refused_login_returns_to_login is what lets a profile without a known
// error marker recognise a refused login; without it the login page that
// comes back is not a refusal.
func TestRefusedLoginReturnsToLogin(t *testing.T) {
	for _, fallback := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[fallback], func(t *testing.T) {
			s := newSession(t)
			iris := startIRISLike(t, `<p>Access Denied!</p>`)
			p := *irisProfile(t)
			p.LoginError = ""
			p.RefusedLoginReturnsToLogin = fallback
			assert.Equal(t, fallback, p.DetectsLoginFailure())

			require.NoError(t, s.Navigate(iris.URL+"/oauth2/authorize?client_id=iris-client&state=f&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb"))
			shown, err := s.Login(&p, AtPrefix("http://127.0.0.1:1/cb"), "developer", "wrong")
			assert.True(t, shown)
			if fallback {
				require.ErrorIs(t, err, ErrLoginFailed)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, fallback, s.LoginFailed(&p))
		})
	}
}
