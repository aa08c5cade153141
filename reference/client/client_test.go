package client

import (
	"time"

	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/oauthtrio/oauthtrio/reference/internal/htmlnode"
)

// harness runs the client behind its own TLS server, as the front would,
// and drives it with a browser-like HTTP client that keeps cookies.
type harness struct {
	t       *testing.T
	op      *fakeOP
	app     *App
	srv     *httptest.Server
	public  string
	browser *http.Client
	// noFollow shares the browser's cookies but stops at the first response.
	noFollow *http.Client
}

func newHarness(t *testing.T, b opBehaviour, configure ...func(*Config)) *harness {
	t.Helper()
	return newHarnessFor(t, newFakeOP(t, b), configure...)
}

func newHarnessFor(t *testing.T, op *fakeOP, configure ...func(*Config)) *harness {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	public := "https://" + srv.Listener.Addr().String()
	cfg := Config{
		Issuer:       op.issuer,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		PublicURL:    public,
		ResourceURLs: ResourceURLs{Protected: op.protectedURL(), Delegated: op.delegatedURL()},
		// Both test servers use the same built-in certificate.
		HTTPClient: op.srv.Client(),
	}
	for _, c := range configure {
		c(&cfg)
	}
	app, err := New(context.Background(), cfg)
	require.NoError(t, err)
	srv.Config.Handler = app
	srv.StartTLS()
	t.Cleanup(srv.Close)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	transport := srv.Client().Transport
	return &harness{
		t: t, op: op, app: app, srv: srv, public: public,
		browser: &http.Client{Transport: transport, Jar: jar},
		noFollow: &http.Client{Transport: transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// document reads an HTML response after checking its status.
func (h *harness) document(resp *http.Response, wantStatus int) *html.Node {
	h.t.Helper()
	defer resp.Body.Close()
	require.Equal(h.t, wantStatus, resp.StatusCode)
	require.Equal(h.t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	doc, err := html.Parse(resp.Body)
	require.NoError(h.t, err)
	return doc
}

// get fetches a path of the client, or an absolute URL, following redirects.
func (h *harness) get(target string) *html.Node {
	h.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = h.public + target
	}
	resp, err := h.browser.Get(target)
	require.NoError(h.t, err)
	return h.document(resp, http.StatusOK)
}

func (h *harness) page() *html.Node { return h.get("/client/application/") }

// login follows the whole flow from the page's link back to the page.
func (h *harness) login() *html.Node {
	h.t.Helper()
	doc := h.page()
	link := byID(doc, "authorize")
	require.NotNil(h.t, link, "the page has no authorize link")
	return h.get(attr(link, "href"))
}

// post submits a form of the page with the browser's cookies.
func (h *harness) post(client *http.Client, path string, form url.Values) *http.Response {
	h.t.Helper()
	resp, err := client.PostForm(h.public+path, form)
	require.NoError(h.t, err)
	return resp
}

func csrfOf(t *testing.T, doc *html.Node) string {
	t.Helper()
	var token string
	walk(doc, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") == "csrf_token" {
			token = attr(n, "value")
			return true
		}
		return false
	})
	require.NotEmpty(t, token, "the page has no CSRF token")
	return token
}

// The page helpers of reference/internal/htmlnode, by their short names.
var (
	walk   = htmlnode.Find
	byID   = htmlnode.ByID
	attr   = htmlnode.Attr
	textOf = htmlnode.Text
)

// textByID returns the text of the element with that id, failing if absent.
func textByID(t *testing.T, doc *html.Node, id string) string {
	t.Helper()
	n := byID(doc, id)
	require.NotNil(t, n, "no element #%s", id)
	return textOf(n)
}

func TestPageNotAuthorized(t *testing.T) {
	h := newHarness(t, opBehaviour{})
	doc := h.page()
	page := textOf(doc)

	assert.Contains(t, page, "Authorization")
	assert.Contains(t, page, "You are not authorized")
	assert.Contains(t, page, "OAuth2 Authorization")
	link := byID(doc, "authorize")
	require.NotNil(t, link)
	assert.Equal(t, "Authorize using AuthServer", textOf(link))
	assert.Equal(t, "/client/application/login", attr(link, "href"))
	for _, id := range []string{"access-token", "logout", "refresh", "error"} {
		assert.Nil(t, byID(doc, id), "#%s on the unauthorized page", id)
	}
}

func TestFullFlow(t *testing.T) {
	h := newHarness(t, opBehaviour{})

	// The login response sets the session cookie with its attributes.
	resp, err := h.noFollow.Get(h.public + "/client/application/login")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	assert.True(t, cookies[0].Secure)
	assert.True(t, cookies[0].HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookies[0].SameSite)
	assert.Equal(t, "/client/", cookies[0].Path)

	doc := h.get(resp.Header.Get("Location"))

	req := h.op.authorizeRequest()
	assert.Equal(t, "code", req.Get("response_type"))
	assert.Equal(t, testClientID, req.Get("client_id"))
	assert.Equal(t, h.public+"/client/application/callback", req.Get("redirect_uri"))
	assert.Equal(t, DefaultScopes, req.Get("scope"))
	assert.Equal(t, "S256", req.Get("code_challenge_method"))
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		// 22 base64url characters carry 128 bits.
		assert.GreaterOrEqual(t, len(req.Get(p)), 22, p)
	}

	access, idToken := h.op.issued()
	page := textOf(doc)
	assert.Contains(t, page, "You are authorized")
	assert.Nil(t, byID(doc, "error"), "unexpected error: %s", textOf(byID(doc, "error")))
	assert.Equal(t, access, textByID(t, doc, "access-token"))
	assert.Contains(t, textByID(t, doc, "jwt-header"), "{\n  \"alg\": \"RS256\",")
	assert.Contains(t, textByID(t, doc, "jwt-header"), `"typ": "at+jwt"`)
	assert.Contains(t, textByID(t, doc, "jwt-payload"), `"sub": "developer"`)
	assert.Contains(t, textByID(t, doc, "introspection"), `"active": true`)
	assert.Equal(t, idToken, textByID(t, doc, "id-token"))
	assert.Contains(t, textByID(t, doc, "id-token-claims"), `"name": "Miguel de Cervantes Saavedra"`)
	assert.Contains(t, textByID(t, doc, "id-token-claims"), `"nonce": "`+req.Get("nonce")+`"`)
	assert.Contains(t, textByID(t, doc, "userinfo"), `"email": "miguel.cervantes@quiijote.es"`)
	assert.Contains(t, page, "Access to resource server")
	assert.Equal(t, h.op.protectedURL(), textByID(t, doc, "resource-url"))
	assert.Equal(t, "200", textByID(t, doc, "resource-status"))
	assert.Contains(t, textByID(t, doc, "resource-body"), `"irisUsername":"UnknownUser"`)
	assert.Equal(t, h.op.delegatedURL(), textByID(t, doc, "delegated-url"))
	assert.Equal(t, "200", textByID(t, doc, "delegated-status"))
	assert.Contains(t, textByID(t, doc, "delegated-body"), `"irisUsername":"OAuth2developer"`)
	assert.NotNil(t, byID(doc, "logout"))
	assert.NotNil(t, byID(doc, "refresh"))

	// The session identifier changes at login (session fixation).
	u, err := url.Parse(h.public + "/client/")
	require.NoError(t, err)
	after := h.browser.Jar.Cookies(u)
	require.Len(t, after, 1)
	assert.NotEqual(t, cookies[0].Value, after[0].Value)
}

func TestCallbackRejected(t *testing.T) {
	tests := []struct {
		name       string
		b          opBehaviour
		wantError  string
		noExchange bool
	}{
		{name: "state mismatch", b: opBehaviour{forgeState: "forged"}, wantError: "[Error] Callback: the state parameter does not match", noExchange: true},
		{name: "access denied", b: opBehaviour{errorCode: "access_denied"}, wantError: "[Error] Authorize: the authorization was denied (access_denied", noExchange: true},
		{name: "other authorization error", b: opBehaviour{errorCode: "invalid_scope"}, wantError: "[Error] Authorize: the authorization server answered with an error (invalid_scope", noExchange: true},
		{name: "iss mismatch", b: opBehaviour{advertiseIss: true, iss: "https://attacker.example"}, wantError: "[Error] Callback: the authorization response comes from issuer", noExchange: true},
		{name: "iss missing though advertised", b: opBehaviour{advertiseIss: true, omitIss: true}, wantError: "[Error] Callback: the authorization response lacks the iss parameter", noExchange: true},
		{name: "iss mismatch not advertised", b: opBehaviour{iss: "https://attacker.example"}, wantError: "RFC 9207", noExchange: true},
		{name: "wrong nonce", b: opBehaviour{nonce: "another-nonce"}, wantError: "[Error] ValidateIDToken: the ID token's nonce does not match"},
		{name: "wrong at_hash", b: opBehaviour{atHash: "AAAAAAAAAAAAAAAAAAAAAA"}, wantError: "[Error] ValidateIDToken: at_hash"},
		{name: "azp mismatch", b: opBehaviour{azp: "another-client"}, wantError: `[Error] ValidateIDToken: the ID token's azp "another-client" is not this client`},
		{name: "several audiences without azp", b: opBehaviour{omitAZP: true, aud: []string{testClientID, "another-client"}}, wantError: "[Error] ValidateIDToken: the ID token has 2 audiences but no azp"},
		{name: "not in audience", b: opBehaviour{aud: []string{"another-client"}}, wantError: "[Error] ValidateIDToken:"},
		{name: "no iat", b: opBehaviour{omitIAT: true}, wantError: "[Error] ValidateIDToken: the ID token has no iat"},
		{name: "iat a day ahead", b: opBehaviour{iatOffset: 24 * time.Hour}, wantError: "[Error] ValidateIDToken: the ID token was issued in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.b)
			doc := h.login()
			assert.Contains(t, textOf(doc), "You are not authorized")
			assert.Contains(t, textByID(t, doc, "error"), tt.wantError)
			assert.NotNil(t, walk(byID(doc, "error"), func(n *html.Node) bool { return attr(n, "class") == "error" }))
			assert.Nil(t, byID(doc, "access-token"))
			if tt.noExchange {
				assert.Zero(t, h.op.tokenRequests(), "the code was exchanged")
			}
			// The error is shown once; the next view is clean.
			assert.Nil(t, byID(h.page(), "error"))
		})
	}
}

func TestCallbackErrors(t *testing.T) {
	t.Run("wrong client secret", func(t *testing.T) {
		h := newHarness(t, opBehaviour{}, func(c *Config) { c.ClientSecret = "wrong" })
		doc := h.login()
		assert.Contains(t, textByID(t, doc, "error"), "[Error] TokenExchange:")
		assert.Contains(t, textByID(t, doc, "error"), "invalid_client")
	})
	t.Run("token type not bearer", func(t *testing.T) {
		h := newHarness(t, opBehaviour{tokenType: "DPoP"})
		doc := h.login()
		assert.Contains(t, textByID(t, doc, "error"), `[Error] TokenExchange: the token type "DPoP" is not Bearer`)
		assert.Nil(t, byID(doc, "access-token"))
	})
	t.Run("no pending request", func(t *testing.T) {
		h := newHarness(t, opBehaviour{})
		doc := h.get("/client/application/callback?code=x&state=y")
		assert.Contains(t, textByID(t, doc, "error"), "[Error] Callback: no authorization request is pending")
	})
	t.Run("replayed response", func(t *testing.T) {
		h := newHarness(t, opBehaviour{})
		resp, err := h.noFollow.Get(h.public + "/client/application/login")
		require.NoError(t, err)
		resp.Body.Close()
		resp, err = h.noFollow.Get(resp.Header.Get("Location"))
		require.NoError(t, err)
		resp.Body.Close()
		callback := resp.Header.Get("Location")
		assert.Contains(t, textOf(h.get(callback)), "You are authorized")
		doc := h.get(callback)
		assert.Contains(t, textByID(t, doc, "error"), "[Error] Callback: no authorization request is pending")
	})
}

// The IRIS example registered the page itself as the redirect URI.
func TestRedirectURIIsThePage(t *testing.T) {
	h := newHarness(t, opBehaviour{}, func(c *Config) { c.RedirectURL = c.PublicURL + "/client/application/" })
	doc := h.login()
	assert.Contains(t, textOf(doc), "You are authorized")
	assert.Equal(t, h.public+"/client/application/", h.op.authorizeRequest().Get("redirect_uri"))
}

func TestOpaqueAccessToken(t *testing.T) {
	h := newHarness(t, opBehaviour{opaqueAccessToken: true})
	doc := h.login()
	assert.Nil(t, byID(doc, "error"), "unexpected error: %s", textOf(byID(doc, "error")))
	assert.Contains(t, textByID(t, doc, "jwt-opaque"), "opaque token")
	assert.Nil(t, byID(doc, "jwt-header"))
	assert.Equal(t, "200", textByID(t, doc, "resource-status"))
}

func TestRefresh(t *testing.T) {
	h := newHarness(t, opBehaviour{})
	doc := h.login()
	oldAccess := textByID(t, doc, "access-token")
	oldID := textByID(t, doc, "id-token")

	resp := h.post(h.browser, "/client/application/refresh", url.Values{"csrf_token": {csrfOf(t, doc)}})
	doc = h.document(resp, http.StatusOK)

	access, idToken := h.op.issued()
	assert.Nil(t, byID(doc, "error"), "unexpected error: %s", textOf(byID(doc, "error")))
	assert.NotEqual(t, oldAccess, access)
	assert.Equal(t, access, textByID(t, doc, "access-token"))
	assert.NotEqual(t, oldID, idToken)
	assert.Equal(t, idToken, textByID(t, doc, "id-token"))
	assert.Contains(t, textByID(t, doc, "introspection"), `"active": true`)

	// The rotated refresh token works too.
	resp = h.post(h.browser, "/client/application/refresh", url.Values{"csrf_token": {csrfOf(t, doc)}})
	doc = h.document(resp, http.StatusOK)
	assert.Nil(t, byID(doc, "error"), "unexpected error: %s", textOf(byID(doc, "error")))
	newAccess, _ := h.op.issued()
	assert.Equal(t, newAccess, textByID(t, doc, "access-token"))
}

func TestRefreshRejected(t *testing.T) {
	t.Run("refresh token no longer valid", func(t *testing.T) {
		h := newHarness(t, opBehaviour{})
		doc := h.login()
		access := textByID(t, doc, "access-token")
		h.op.mu.Lock()
		clear(h.op.refreshTokens)
		h.op.mu.Unlock()

		doc = h.document(h.post(h.browser, "/client/application/refresh", url.Values{"csrf_token": {csrfOf(t, doc)}}), http.StatusOK)
		assert.Contains(t, textByID(t, doc, "error"), "[Error] Refresh:")
		assert.Contains(t, textByID(t, doc, "error"), "invalid_grant")
		assert.Equal(t, access, textByID(t, doc, "access-token"), "the old tokens stay")
	})
	t.Run("refreshed ID token about another subject", func(t *testing.T) {
		h := newHarness(t, opBehaviour{refreshSubject: "someone-else"})
		doc := h.login()
		access := textByID(t, doc, "access-token")
		doc = h.document(h.post(h.browser, "/client/application/refresh", url.Values{"csrf_token": {csrfOf(t, doc)}}), http.StatusOK)
		assert.Contains(t, textByID(t, doc, "error"), `[Error] ValidateIDToken: the refreshed ID token is about subject "someone-else"`)
		assert.Equal(t, access, textByID(t, doc, "access-token"), "the old tokens stay")
	})
}

func TestRefreshWithoutRefreshToken(t *testing.T) {
	h := newHarness(t, opBehaviour{noRefreshToken: true})
	doc := h.login()
	assert.Contains(t, textOf(doc), "You are authorized")
	assert.Nil(t, byID(doc, "refresh"), "refresh offered without a refresh token")

	resp := h.post(h.browser, "/client/application/refresh", url.Values{"csrf_token": {csrfOf(t, doc)}})
	doc = h.document(resp, http.StatusOK)
	assert.Contains(t, textByID(t, doc, "error"), "[Error] Refresh: no refresh token was issued")
	assert.Contains(t, textOf(doc), "You are authorized")
}

func TestLogout(t *testing.T) {
	t.Run("RP-initiated logout", func(t *testing.T) {
		h := newHarness(t, opBehaviour{})
		doc := h.login()
		_, idToken := h.op.issued()

		resp := h.post(h.noFollow, "/client/application/logout", url.Values{"csrf_token": {csrfOf(t, doc)}})
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		target, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, h.op.issuer+"/logout", target.Scheme+"://"+target.Host+target.Path)
		q := target.Query()
		assert.Equal(t, idToken, q.Get("id_token_hint"))
		assert.Equal(t, h.public+"/client/application/", q.Get("post_logout_redirect_uri"))
		assert.Equal(t, testClientID, q.Get("client_id"))
		assert.NotEmpty(t, q.Get("state"))

		assert.Contains(t, textOf(h.page()), "You are not authorized")
	})
	t.Run("no end_session_endpoint", func(t *testing.T) {
		h := newHarness(t, opBehaviour{noEndSession: true})
		doc := h.login()
		resp := h.post(h.noFollow, "/client/application/logout", url.Values{"csrf_token": {csrfOf(t, doc)}})
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/client/application/", resp.Header.Get("Location"))
		assert.Contains(t, textOf(h.page()), "You are not authorized")
	})
}

func TestFormsRequireCSRFToken(t *testing.T) {
	tests := []struct {
		name, path string
		form       func(good string) url.Values
	}{
		{"logout without token", "/client/application/logout", func(string) url.Values { return nil }},
		{"logout with a wrong token", "/client/application/logout", func(string) url.Values { return url.Values{"csrf_token": {"wrong"}} }},
		{"refresh without token", "/client/application/refresh", func(string) url.Values { return nil }},
		{"refresh with the token in the query", "/client/application/refresh?csrf_token=", func(string) url.Values { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, opBehaviour{})
			good := csrfOf(t, h.login())
			path := tt.path
			if strings.HasSuffix(path, "=") {
				path += url.QueryEscape(good)
			}
			doc := h.document(h.post(h.noFollow, path, tt.form(good)), http.StatusForbidden)
			assert.Contains(t, textByID(t, doc, "error"), "CSRF token")
			assert.Contains(t, textOf(h.page()), "You are authorized", "the session must survive")
		})
	}
	t.Run("another browser's token", func(t *testing.T) {
		h := newHarness(t, opBehaviour{})
		good := csrfOf(t, h.login())
		stranger := &http.Client{Transport: h.browser.Transport}
		h.document(h.post(stranger, "/client/application/logout", url.Values{"csrf_token": {good}}), http.StatusForbidden)
	})
}

func TestIssuerUnavailableAtStart(t *testing.T) {
	op := newFakeOP(t, opBehaviour{})
	op.setDown(true)
	h := newHarnessFor(t, op)

	doc := h.page()
	assert.Contains(t, textOf(doc), "You are not authorized")
	doc = h.login()
	assert.Contains(t, textByID(t, doc, "error"), "[Error] Discovery:")
	assert.Contains(t, textOf(doc), "You are not authorized")

	op.setDown(false)
	doc = h.login()
	assert.Nil(t, byID(doc, "error"), "unexpected error: %s", textOf(byID(doc, "error")))
	assert.Contains(t, textOf(doc), "You are authorized")
	assert.Contains(t, textByID(t, doc, "userinfo"), `"sub": "developer"`)

	// Once discovered, an outage shows per section and the page still renders.
	op.setDown(true)
	doc = h.page()
	assert.Contains(t, textOf(doc), "You are authorized")
	assert.Contains(t, textByID(t, doc, "introspection-error"), "[Error] GetIntrospection: HTTP 503")
	assert.Contains(t, textByID(t, doc, "userinfo-error"), "[Error] GetUserinfo:")
	assert.Equal(t, "503", textByID(t, doc, "resource-status"))
}

func TestPageEscapesServerText(t *testing.T) {
	h := newHarness(t, opBehaviour{errorCode: `<script>alert(1)</script>`})
	resp, err := h.browser.Get(h.public + "/client/application/login")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.NotContains(t, string(body), "<script>")
	assert.Contains(t, string(body), "&lt;script&gt;")
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{
			name: "defaults from the public URL",
			cfg:  Config{ClientID: "c", PublicURL: "https://webserver/"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "https://webserver/authserver/oauth2", c.Issuer)
				assert.Equal(t, "https://webserver/client/application/callback", c.RedirectURL)
				assert.Equal(t, "https://webserver/client/application/", c.PostLogoutRedirectURL)
				assert.Equal(t, "https://webserver/resserver/protected-resources/", c.ResourceURLs.Protected)
				assert.Equal(t, "https://webserver/resserver/protected-resources-delegated/", c.ResourceURLs.Delegated)
				assert.Equal(t, []string{"openid", "profile", "email", "my/scope", "offline_access"}, c.Scopes)
				assert.Equal(t, "/client", c.PathPrefix)
			},
		},
		{
			name: "unreachable issuer is fine",
			cfg:  Config{ClientID: "c", PublicURL: "https://127.0.0.1:1", Issuer: "https://127.0.0.1:1/nowhere"},
		},
		{name: "no client id", cfg: Config{PublicURL: "https://webserver"}, wantErr: "ClientID is required"},
		{name: "nothing to derive from", cfg: Config{ClientID: "c"}, wantErr: "Issuer or PublicURL is required"},
		{name: "redirect outside the application", cfg: Config{ClientID: "c", PublicURL: "https://webserver", RedirectURL: "https://webserver/client/cb"}, wantErr: "must lie under /client/application/"},
		{name: "relative redirect", cfg: Config{ClientID: "c", PublicURL: "https://webserver", RedirectURL: "/client/application/cb"}, wantErr: "absolute URL"},
		{name: "bad prefix", cfg: Config{ClientID: "c", PublicURL: "https://webserver", PathPrefix: "client/"}, wantErr: "PathPrefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := New(context.Background(), tt.cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			if tt.check != nil {
				tt.check(t, app.cfg)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	app, err := New(context.Background(), Config{ClientID: "c", PublicURL: "https://webserver"})
	require.NoError(t, err)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/client/application/", http.StatusOK},
		{http.MethodGet, "/client/application", http.StatusTemporaryRedirect},
		{http.MethodGet, "/client/application/nothing", http.StatusNotFound},
		{http.MethodGet, "/application/", http.StatusNotFound},
		{http.MethodGet, "/client/application/logout", http.StatusMethodNotAllowed},
		{http.MethodPost, "/client/application/", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			assert.Equal(t, tt.want, rec.Code)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		})
	}
}
