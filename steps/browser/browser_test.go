package browser

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/internal/selfsigned"

	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/oauthtrio/oauthtrio/steps/callback"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeIssuer serves pages shaped like the reference server's: login, then
// consent, then a redirect to the client. A session cookie skips the login
// the second time, as single sign-on does.
type fakeIssuer struct {
	*httptest.Server
	hang chan struct{} // closed at clean-up; releases the never-ending stylesheet
}

func startFakeIssuer() *fakeIssuer {
	f := &fakeIssuer{hang: make(chan struct{})}
	mux := http.NewServeMux()
	// An image that never arrives keeps the load event from firing, as a
	// remote web font can: the flow must not wait for the load event.
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-f.hang:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "good-client" {
			writePage(w, http.StatusBadRequest, `<div id="oauth-error"><h1>invalid_request</h1><p>unknown client</p></div>`)
			return
		}
		if c, err := r.Cookie("sso"); err == nil && c.Value != "" {
			http.Redirect(w, r, q.Get("redirect_uri")+"?code=sso-code&state="+url.QueryEscape(q.Get("state")), http.StatusSeeOther)
			return
		}
		loginPage(w, q, "")
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("username") != "alice" || r.PostForm.Get("password") != "wonderland" {
			loginPage(w, r.PostForm, `<p id="login-error">Wrong user name or password</p>`)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sso", Value: "alice", Path: "/", HttpOnly: true, Secure: true})
		writePage(w, http.StatusOK, fmt.Sprintf(`<form id="consent-form" method="get" action="/consent">
<input type="hidden" name="redirect_uri" value="%s"><input type="hidden" name="state" value="%s">
<p>good-client asks for openid profile</p>
<button id="consent-approve" name="decision" value="approve">Allow</button>
<button id="consent-deny" name="decision" value="deny">Deny</button></form>`,
			html.EscapeString(r.PostForm.Get("redirect_uri")), html.EscapeString(r.PostForm.Get("state"))))
	})
	mux.HandleFunc("GET /fragment", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"#access_token=at-123&token_type=Bearer&state="+url.QueryEscape(q.Get("state")), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /alert", func(w http.ResponseWriter, r *http.Request) {
		writePage(w, http.StatusOK, `<p id="after-alert">still here</p><script>alert("Please enter a password")</script>`)
	})
	mux.HandleFunc("GET /consent", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		target := q.Get("redirect_uri") + "?state=" + url.QueryEscape(q.Get("state"))
		if q.Get("decision") == "approve" {
			target += "&code=fresh-code"
		} else {
			target += "&error=access_denied"
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
	f.Server = httptest.NewTLSServer(mux)
	return f
}

func (f *fakeIssuer) stop() {
	close(f.hang)
	f.Close()
}

func writePage(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html><html><head><title>Fake issuer</title></head><body><img src="/slow.png" alt="" width="1" height="1">%s</body></html>`, body)
}

func loginPage(w http.ResponseWriter, q url.Values, errorHTML string) {
	writePage(w, http.StatusOK, fmt.Sprintf(`%s<form id="login-form" method="post" action="/login">
<input type="hidden" name="redirect_uri" value="%s"><input type="hidden" name="state" value="%s">
<input id="username" name="username"><input id="password" name="password" type="password">
<button id="login-submit" type="submit">Sign in</button></form>`,
		errorHTML, html.EscapeString(q.Get("redirect_uri")), html.EscapeString(q.Get("state"))))
}

// callbackServer stands in for the suite's redirect listener.
func callbackServer(t *testing.T) (*httptest.Server, func() []url.Values) {
	t.Helper()
	var mu sync.Mutex
	var got []url.Values
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			// Chromium asks for /favicon.ico too.
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		got = append(got, r.URL.Query())
		mu.Unlock()
		fmt.Fprint(w, "<!doctype html><p>done</p>")
	}))
	t.Cleanup(ts.Close)
	return ts, func() []url.Values {
		mu.Lock()
		defer mu.Unlock()
		return append([]url.Values(nil), got...)
	}
}

var (
	sharedOnce    sync.Once
	sharedBrowser *Browser
	sharedErr     error
	sharedIssuer  *fakeIssuer
	artifactsDir  string
)

// TestMain stops the browser the tests shared.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedBrowser != nil {
		sharedBrowser.Close()
	}
	if sharedIssuer != nil {
		sharedIssuer.stop()
	}
	if artifactsDir != "" {
		os.RemoveAll(artifactsDir)
	}
	os.Exit(code)
}

// testBrowser starts Chromium once for the package, trusting the fake
// issuer's certificate by its key only. Tests skip without Chromium.
func testBrowser(t *testing.T) *Browser {
	t.Helper()
	if _, err := FindChromium(); err != nil {
		t.Skipf("skipping: %v (apt-get install -y chromium)", err)
	}
	sharedOnce.Do(func() {
		// The issuer and the browser serve every test; TestMain stops them.
		sharedIssuer = startFakeIssuer()
		artifactsDir, sharedErr = os.MkdirTemp("", "oauthtrio-artifacts-")
		if sharedErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sharedBrowser, sharedErr = Start(ctx, Options{
			TrustSPKI:     []string{selfsigned.SPKIHash(sharedIssuer.Certificate())},
			ArtifactsDir:  artifactsDir,
			ActionTimeout: 10 * time.Second,
		})
	})
	require.NoError(t, sharedErr)
	return sharedBrowser
}

func newSession(t *testing.T) *Session {
	t.Helper()
	b := testBrowser(t)
	s, cancel, err := b.NewSession(context.Background())
	require.NoError(t, err)
	t.Cleanup(cancel)
	return s
}

func referenceProfile(t *testing.T) *Profile {
	t.Helper()
	ps, err := LoadProfiles(fixtures.Profiles, "profiles")
	require.NoError(t, err)
	p := ps["reference"]
	require.NotNil(t, p)
	return p
}

func authURL(issuer, client, redirect, state string) string {
	return issuer + "/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirect}, "state": {state},
	}.Encode()
}

func TestAuthorizeLoginConsentRedirect(t *testing.T) {
	s := newSession(t)
	cb, received := callbackServer(t)
	p := referenceProfile(t)

	res, err := s.Authorize(context.Background(), AuthorizeRequest{
		URL:            authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", "st-1"),
		RedirectPrefix: cb.URL + "/cb",
		Profile:        p,
		Username:       "alice",
		Password:       "wonderland",
	})
	require.NoError(t, err)
	assert.True(t, res.LoginShown)
	assert.True(t, res.ConsentShown)
	assert.Equal(t, PageRedirected, res.Final)
	u, err := url.Parse(res.RedirectURL)
	require.NoError(t, err)
	assert.Equal(t, "fresh-code", u.Query().Get("code"))
	assert.Equal(t, "st-1", u.Query().Get("state"))
	require.Len(t, received(), 1, "Chromium follows the redirect and the listener answers")

	again := func(state string) (*AuthorizeResult, error) {
		return s.Authorize(context.Background(), AuthorizeRequest{
			URL:            authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", state),
			RedirectPrefix: cb.URL + "/cb",
			Profile:        p,
			Username:       "alice",
			Password:       "wonderland",
		})
	}
	// The second authorization rides on the session cookie: no login page.
	res, err = again("st-2")
	require.NoError(t, err)
	assert.False(t, res.LoginShown)
	assert.False(t, res.ConsentShown)
	assert.Contains(t, res.RedirectURL, "code=sso-code")

	cookies, err := s.Cookies()
	require.NoError(t, err)
	assert.True(t, hasCookie(cookies, "sso"))
	require.NoError(t, s.ClearCookies())
	after, err := s.Cookies()
	require.NoError(t, err)
	assert.False(t, hasCookie(after, "sso"))

	// Cookies saved before they were cleared go back and are sent again.
	require.NoError(t, s.SetCookies(cookies))
	res, err = again("st-3")
	require.NoError(t, err)
	assert.False(t, res.LoginShown)
	assert.Contains(t, res.RedirectURL, "code=sso-code")
}

func TestAuthorizeDenyConsent(t *testing.T) {
	s := newSession(t)
	cb, _ := callbackServer(t)
	res, err := s.Authorize(context.Background(), AuthorizeRequest{
		URL:            authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", "st-deny"),
		RedirectPrefix: cb.URL,
		Profile:        referenceProfile(t),
		Username:       "alice",
		Password:       "wonderland",
		DenyConsent:    true,
	})
	require.NoError(t, err)
	assert.Contains(t, res.RedirectURL, "error=access_denied")
}

func TestAuthorizeWrongPassword(t *testing.T) {
	s := newSession(t)
	cb, _ := callbackServer(t)
	p := referenceProfile(t)
	res, err := s.Authorize(context.Background(), AuthorizeRequest{
		URL:            authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", "st-bad"),
		RedirectPrefix: cb.URL,
		Profile:        p,
		Username:       "alice",
		Password:       "not-the-password",
	})
	require.ErrorIs(t, err, ErrLoginFailed)
	assert.True(t, res.LoginShown)
	assert.True(t, s.LoginFailed(p))
	assert.False(t, s.OnErrorPage(p))
}

func TestAuthorizeErrorPage(t *testing.T) {
	s := newSession(t)
	cb, received := callbackServer(t)
	p := referenceProfile(t)
	_, err := s.Authorize(context.Background(), AuthorizeRequest{
		URL:            authURL(sharedIssuer.URL, "unknown-client", cb.URL+"/cb", "st-err"),
		RedirectPrefix: cb.URL,
		Profile:        p,
		Username:       "alice",
		Password:       "wonderland",
	})
	require.ErrorIs(t, err, ErrErrorPage)
	assert.True(t, s.OnErrorPage(p))
	assert.Empty(t, received(), "an error page must not redirect")
	txt, err := s.Text("#oauth-error h1")
	require.NoError(t, err)
	assert.Equal(t, "invalid_request", txt)
}

func TestAuthorizeDetectsProfile(t *testing.T) {
	s := newSession(t)
	cb, _ := callbackServer(t)
	ps, err := LoadProfiles(fixtures.Profiles, "profiles")
	require.NoError(t, err)
	res, err := s.Authorize(context.Background(), AuthorizeRequest{
		URL:            authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", "st-auto"),
		RedirectPrefix: cb.URL,
		Profiles:       ps,
		Username:       "alice",
		Password:       "wonderland",
	})
	require.NoError(t, err)
	assert.Equal(t, "reference", res.Profile.Name)
}

func TestSessionsDoNotShareCookies(t *testing.T) {
	cb, _ := callbackServer(t)
	p := referenceProfile(t)
	a, b := newSession(t), newSession(t)

	var wg sync.WaitGroup
	results := make([]*AuthorizeResult, 2)
	errs := make([]error, 2)
	for i, s := range []*Session{a, b} {
		wg.Go(func() {
			results[i], errs[i] = s.Authorize(context.Background(), AuthorizeRequest{
				URL:            authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", fmt.Sprintf("par-%d", i)),
				RedirectPrefix: cb.URL,
				Profile:        p,
				Username:       "alice",
				Password:       "wonderland",
			})
		})
	}
	wg.Wait()
	for i := range 2 {
		require.NoError(t, errs[i])
		assert.True(t, results[i].LoginShown, "session %d must log in itself", i)
	}

	// a logs out; b keeps its session.
	require.NoError(t, a.ClearCookies())
	ra, err := a.Authorize(context.Background(), AuthorizeRequest{
		URL: authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", "again-a"), RedirectPrefix: cb.URL,
		Profile: p, Username: "alice", Password: "wonderland",
	})
	require.NoError(t, err)
	assert.True(t, ra.LoginShown)
	rb, err := b.Authorize(context.Background(), AuthorizeRequest{
		URL: authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", "again-b"), RedirectPrefix: cb.URL,
		Profile: p, Username: "alice", Password: "wonderland",
	})
	require.NoError(t, err)
	assert.False(t, rb.LoginShown)
}

func TestLoginAndConsentSeparately(t *testing.T) {
	s := newSession(t)
	cb, _ := callbackServer(t)
	p := referenceProfile(t)
	require.NoError(t, s.Navigate(authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", "sep")))
	shown, err := s.Login(p, AtPrefix(cb.URL), "alice", "wonderland")
	require.NoError(t, err)
	assert.True(t, shown)
	shown, err = s.Consent(p, AtPrefix(cb.URL), true)
	require.NoError(t, err)
	assert.True(t, shown)
	u, err := s.WaitForURLPrefix(cb.URL + "/cb")
	require.NoError(t, err)
	assert.Contains(t, u, "code=fresh-code")

	// With the SSO session both pages are skipped, and Consent says so.
	require.NoError(t, s.Navigate(authURL(sharedIssuer.URL, "good-client", cb.URL+"/cb", "sep2")))
	shown, err = s.Login(p, AtPrefix(cb.URL), "alice", "wonderland")
	require.NoError(t, err)
	assert.False(t, shown)
	shown, err = s.Consent(p, AtPrefix(cb.URL), true)
	require.NoError(t, err)
	assert.False(t, shown, "consent skipped")
}

func TestRedirectToClosedPortIsCaught(t *testing.T) {
	s := newSession(t)
	// Nothing listens on port 1: Chromium shows its own error page, but the
	// history entry still names the redirect.
	res, err := s.Authorize(context.Background(), AuthorizeRequest{
		URL:            authURL(sharedIssuer.URL, "good-client", "http://127.0.0.1:1/cb", "closed"),
		RedirectPrefix: "http://127.0.0.1:1/cb",
		Profile:        referenceProfile(t),
		Username:       "alice",
		Password:       "wonderland",
	})
	require.NoError(t, err)
	assert.Contains(t, res.RedirectURL, "code=fresh-code")
}

func TestSaveArtifacts(t *testing.T) {
	s := newSession(t)
	require.NoError(t, s.Navigate(authURL(sharedIssuer.URL, "good-client", "http://127.0.0.1:1/cb", "art")))
	require.NoError(t, s.WaitFor("#login-form"))
	png, htmlPath, err := s.SaveArtifacts("Scenario: wrong password / step 3")
	require.NoError(t, err)
	assert.Equal(t, artifactsDir, filepath.Dir(png))
	data, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "\x89PNG\r\n\x1a\n"))
	doc, err := os.ReadFile(htmlPath)
	require.NoError(t, err)
	assert.Contains(t, string(doc), `id="login-form"`)
	assert.NotContains(t, filepath.Base(png), " ")
}

func TestActionsTimeOutWithContext(t *testing.T) {
	s := newSession(t)
	require.NoError(t, s.Navigate(authURL(sharedIssuer.URL, "good-client", "http://127.0.0.1:1/cb", "to")))
	s.SetActionTimeout(300 * time.Millisecond)
	err := s.Click("#no-such-button")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"#no-such-button"`)
	// The wait gave up on the session's action timeout, not on a default.
	assert.Contains(t, err.Error(), "timed out after 300ms")
	assert.False(t, s.Exists("#no-such-button"))
	err = s.Click("#bad[")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid selector")
	// The session still works after a timed-out action.
	s.SetActionTimeout(5 * time.Second)
	require.NoError(t, s.Fill("#username", "bob"))
	html, err := s.HTML()
	require.NoError(t, err)
	assert.Contains(t, html, "login-form")
}

func hasCookie(cs []*network.Cookie, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// The suite's own listener catches both a query and a fragment response
// from a real browser: the answer page posts the fragment back.
func TestRedirectListenerWithBrowser(t *testing.T) {
	s := newSession(t)
	l, err := callback.Listen(callback.Options{})
	require.NoError(t, err)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err = s.Authorize(ctx, AuthorizeRequest{
		URL:            authURL(sharedIssuer.URL, "good-client", l.URL(), "listener-q"),
		RedirectPrefix: l.URL(),
		Profile:        referenceProfile(t),
		Username:       "alice",
		Password:       "wonderland",
	})
	require.NoError(t, err)
	cb, err := l.WaitFor(ctx, "listener-q")
	require.NoError(t, err)
	assert.Equal(t, "query", cb.ResponseMode)
	assert.NotEmpty(t, cb.Params.Get("code"))

	require.NoError(t, s.Navigate(sharedIssuer.URL+"/fragment?"+url.Values{"redirect_uri": {l.URL()}, "state": {"listener-f"}}.Encode()))
	cb, err = l.WaitFor(ctx, "listener-f")
	require.NoError(t, err)
	assert.Equal(t, "fragment", cb.ResponseMode)
	assert.Equal(t, "at-123", cb.Params.Get("access_token"))
}

// An alert (IRIS shows one for an empty field) must not block the page.
func TestDialogsAreAcceptedAndKept(t *testing.T) {
	s := newSession(t)
	require.NoError(t, s.Navigate(sharedIssuer.URL+"/alert"))
	txt, err := s.Text("#after-alert")
	require.NoError(t, err)
	assert.Equal(t, "still here", txt)
	require.Eventually(t, func() bool { return len(s.Dialogs()) > 0 }, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, []string{"Please enter a password"}, s.Dialogs())
}

// A wait that starts after its deadline says so, not "timed out after -5ms".
func TestPollUntilWithoutTimeLeft(t *testing.T) {
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-5*time.Millisecond))
	defer cancel()
	err := pollUntil(ctx, "the login page", deadlineLeft(ctx), func(context.Context) (bool, error) { return false, nil })
	require.EqualError(t, err, "browser: no time was left to wait for the login page")
}

// TestEndedSessionIsWipedAndReused: a session a scenario ends goes back to
// the pool with nothing a site could tell it by: no cookie, no web storage,
// no history.
func TestEndedSessionIsWipedAndReused(t *testing.T) {
	testBrowser(t) // skips without Chromium
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "sso", Value: "1", Path: "/"})
			writePage(w, 200, `<script>localStorage.setItem("k", "v"); sessionStorage.setItem("k", "v")</script><p id="set">set</p>`)
			return
		}
		writePage(w, 200, `<p id="plain">plain</p>`)
	}))
	defer site.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Start(ctx, Options{Warm: 1, ActionTimeout: 10 * time.Second})
	require.NoError(t, err)
	defer b.Close()
	require.Eventually(t, func() bool { return len(b.warm) == 1 }, 10*time.Second, 20*time.Millisecond, "the pool is filled at the start")

	first, end, err := b.NewSession(ctx)
	require.NoError(t, err)
	require.NoError(t, first.Navigate(site.URL+"/set"))
	require.NoError(t, first.WaitFor("#set"))
	cookies, err := first.Cookies()
	require.NoError(t, err)
	require.True(t, hasCookie(cookies, "sso"))
	first.SetActionTimeout(time.Minute)
	end()

	// The wipe runs in the background; the pool holds the session once done.
	require.Eventually(t, func() bool { return len(b.warm) == 1 }, 10*time.Second, 20*time.Millisecond)
	again, endAgain, err := b.NewSession(ctx)
	require.NoError(t, err)
	defer endAgain()
	require.Same(t, first, again, "the ended session is handed out again")
	assert.Equal(t, 10*time.Second, again.ActionTimeout())

	cookies, err = again.Cookies()
	require.NoError(t, err)
	assert.Empty(t, cookies)
	require.NoError(t, again.Navigate(site.URL+"/plain"))
	require.NoError(t, again.WaitFor("#plain"))
	actx, acancel := again.actionCtx()
	defer acancel()
	stored, err := eval[[]any](actx, `[localStorage.getItem("k"), sessionStorage.getItem("k"), history.length]`)
	require.NoError(t, err)
	assert.Nil(t, stored[0], "localStorage is empty")
	assert.Nil(t, stored[1], "sessionStorage is empty")
	assert.LessOrEqual(t, stored[2], float64(2), "the history holds about:blank and this page at most")
}
