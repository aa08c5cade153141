package authserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/reference/fixture"
	"github.com/oauthtrio/oauthtrio/reference/keyring"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// Clients of fixtures/trio.yaml the tests use.
const (
	resClientID   = "resserver"
	resSecret     = "resserver-secret"
	postmanID     = "c4R48FKeWkhGMOzyhUoVlhNpoRPHZd7EUOiJlHAX6UQ"
	postmanSecret = "O1ngeS2un6ZgLdIZLB4eAOXbDqhLyhXfpAm379iw7ScEDgJkY87Qzik44shByEHkVDVcd661MKy4ld3Rz4VarA"
)

// Test-only clients. Their redirect URIs point at a host no test serves:
// the browser stops at the first redirect that leaves the server.
const (
	webClientID    = "test-web"
	webSecret      = "test-web-secret"
	otherClientID  = "test-other"
	otherSecret    = "test-other-secret"
	postClientID   = "test-post"
	postSecret     = "test-post-secret"
	publicClientID = "test-spa"

	testRedirect       = "https://client.test/cb"
	testLogoutRedirect = "https://client.test/bye"

	// testVerifier is a fixed RFC 7636 §4.1 code verifier (43 characters).
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// testChallenge is testVerifier's S256 challenge (RFC 7636 §4.2).
var testChallenge = s256(testVerifier)

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fastHash stores secrets at bcrypt's minimum cost. The cost in the stored
// hash is what every verification pays, so the tests stay fast; the
// benchmarks use HashSecret's production cost.
func fastHash(secret string) ([]byte, error) {
	return bcrypt.GenerateFromPassword(prehash([]byte(secret)), bcrypt.MinCost)
}

// harness is an authorization server with the trio's fixtures and the
// test clients, served over TLS on 127.0.0.1.
type harness struct {
	t        testing.TB
	srv      *httptest.Server
	as       *Server
	st       *store.Store
	keys     *keyring.Ring
	issuer   string
	resource string // the resource server's identifier, its audience
}

func newHarness(t testing.TB) *harness { return newHarnessWith(t, nil, fastHash) }

// newHarnessWith lets a test change the configuration before the server is
// built and choose how fixture secrets are hashed.
func newHarnessWith(t testing.TB, mutate func(*Config), hash fixture.Hasher) *harness {
	t.Helper()
	return newHarnessStarting(t, mutate, hash, nil)
}

// newHarnessStarting also lets a test adjust the built server before it
// takes requests.
func newHarnessStarting(t testing.TB, mutate func(*Config), hash fixture.Hasher, adjust func(*Server)) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenMemory(func() fosite.Session { return NewSession() })
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })

	keys, err := keyring.Open(ctx, st, "RS256", time.Hour)
	require.NoError(t, err)

	// The listener exists before the server starts, so the public URL is
	// known when the handler is built.
	srv := httptest.NewUnstartedServer(nil)
	publicURL := "https://" + srv.Listener.Addr().String()

	f, err := fixture.Parse(fixtures.Trio)
	require.NoError(t, err)
	require.NoError(t, f.Apply(ctx, st, publicURL, hash))
	h := &harness{t: t, srv: srv, st: st, keys: keys, issuer: publicURL + IssuerPath, resource: publicURL + "/resserver"}
	h.addTestClients(hash)

	secret := make([]byte, 32)
	_, err = rand.Read(secret)
	require.NoError(t, err)
	cfg := Config{PublicURL: publicURL, GlobalSecret: secret, Hooks: WorkshopHooks(st)}
	if mutate != nil {
		mutate(&cfg)
	}
	as, err := New(cfg, st, keys)
	require.NoError(t, err)
	h.as = as
	if adjust != nil {
		adjust(as)
	}
	srv.Config.Handler = as
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return h
}

func (h *harness) addTestClients(hash fixture.Hasher) {
	h.t.Helper()
	scopes := []string{"openid", "profile", "email", "offline_access", "my/scope"}
	clients := []fixture.Client{
		{
			ID: webClientID, Name: "Test web client", Secret: webSecret,
			RedirectURIs: []string{testRedirect}, PostLogoutRedirectURIs: []string{testLogoutRedirect},
			GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}, ResponseTypes: []string{"code"},
			Scopes: scopes, Audience: []string{"{public_url}/resserver", "https://other-api.test"},
		},
		{
			ID: otherClientID, Secret: otherSecret, RedirectURIs: []string{testRedirect},
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
			Scopes: scopes, Audience: []string{"{public_url}/resserver"},
		},
		{
			ID: postClientID, Secret: postSecret, TokenEndpointAuthMethod: "client_secret_post",
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"my/scope"},
			Audience: []string{"{public_url}/resserver"},
		},
		{
			ID: publicClientID, TokenEndpointAuthMethod: "none", RedirectURIs: []string{testRedirect},
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
			Scopes: scopes, Audience: []string{"{public_url}/resserver"},
		},
	}
	publicURL := strings.TrimSuffix(h.issuer, IssuerPath)
	for _, c := range clients {
		sc, err := c.StoreClient(publicURL, hash)
		require.NoError(h.t, err)
		require.NoError(h.t, h.st.UpsertClient(context.Background(), sc))
	}
}

func (h *harness) url(endpoint string) string { return h.issuer + "/" + endpoint }

// response is a finished HTTP exchange, body read.
type response struct {
	status int
	header http.Header
	body   string
}

// json decodes the body as a JSON object.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoErrorf(t, json.Unmarshal([]byte(r.body), &m), "body %q", r.body)
	return m
}

// location is the parsed Location header of a redirect.
func (r response) location(t testing.TB) *url.URL {
	t.Helper()
	loc := r.header.Get("Location")
	require.NotEmptyf(t, loc, "status %d, body %q", r.status, r.body)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	return u
}

func finish(t testing.TB, resp *http.Response, err error) response {
	t.Helper()
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// do sends req with the server's TLS trust and no redirect following.
func (h *harness) do(req *http.Request) response {
	h.t.Helper()
	c := *h.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	return finish(h.t, resp, err)
}

// auth sets client credentials on a request.
type auth func(*http.Request, url.Values)

// basic is client_secret_basic: RFC 6749 §2.3.1 form-encodes both parts.
func basic(id, secret string) auth {
	return func(r *http.Request, _ url.Values) {
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
}

// post is client_secret_post (RFC 6749 §2.3.1).
func post(id, secret string) auth {
	return func(_ *http.Request, form url.Values) {
		form.Set("client_id", id)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
}

func noAuth(*http.Request, url.Values) {}

// postForm posts a form to an endpoint of the issuer.
func (h *harness) postForm(endpoint string, form url.Values, a auth) response {
	h.t.Helper()
	form = cloneValues(form)
	req, err := http.NewRequest(http.MethodPost, h.url(endpoint), nil)
	require.NoError(h.t, err)
	a(req, form)
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.ContentLength = int64(len(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(req)
}

func (h *harness) get(endpoint string) response {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url(endpoint), nil)
	require.NoError(h.t, err)
	return h.do(req)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// clientCredentials asks for a token with the Postman client.
func (h *harness) clientCredentials(extra url.Values) response {
	h.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}}
	for k, v := range extra {
		form[k] = v
	}
	return h.postForm("token", form, basic(postmanID, postmanSecret))
}

// exchange redeems an authorization code for the web client.
func (h *harness) exchange(code string, a auth) response {
	h.t.Helper()
	return h.postForm("token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {testRedirect}, "code_verifier": {testVerifier},
	}, a)
}

// introspect asks about a token as the resource server.
func (h *harness) introspect(token string) map[string]any {
	h.t.Helper()
	r := h.postForm("introspection", url.Values{"token": {token}}, basic(resClientID, resSecret))
	require.Equalf(h.t, http.StatusOK, r.status, "introspection: %s", r.body)
	return r.json(h.t)
}

// decode verifies a JWT with the server's key ring.
func (h *harness) decode(token string) *jwt.Token {
	h.t.Helper()
	tok, err := h.keys.Signer().Decode(context.Background(), token)
	require.NoError(h.t, err)
	return tok
}

// userTokens runs the code flow for developer and returns the token
// response; scope defaults to "openid profile email offline_access my/scope".
func (h *harness) userTokens(clientID, secret, scope string) map[string]any {
	h.t.Helper()
	b := h.browser()
	q := authParams(clientID, scope)
	cb := b.authorizeCode(q, "developer", "test")
	r := h.exchange(cb.Get("code"), basic(clientID, secret))
	require.Equalf(h.t, http.StatusOK, r.status, "token: %s", r.body)
	return r.json(h.t)
}

// authParams is a valid authorization request with PKCE, state and nonce.
func authParams(clientID, scope string) url.Values {
	if scope == "" {
		scope = "openid profile email offline_access my/scope"
	}
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {testRedirect},
		"scope":                 {scope},
		"state":                 {"state-1234"},
		"nonce":                 {"nonce-5678"},
		"code_challenge":        {testChallenge},
		"code_challenge_method": {"S256"},
	}
}

// browser is a user agent with a cookie jar. It follows redirects within
// the server and stops at the first one that leaves it, which is the
// client's redirect URI.
type browser struct {
	h *harness
	c *http.Client
}

func (h *harness) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(h.t, err)
	c := *h.srv.Client()
	c.Jar = jar
	host := strings.TrimPrefix(strings.TrimSuffix(h.issuer, IssuerPath), "https://")
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &browser{h: h, c: &c}
}

func (b *browser) get(rawURL string) response {
	b.h.t.Helper()
	resp, err := b.c.Get(rawURL)
	return finish(b.h.t, resp, err)
}

func (b *browser) post(rawURL string, form url.Values) response {
	b.h.t.Helper()
	resp, err := b.c.PostForm(rawURL, form)
	return finish(b.h.t, resp, err)
}

// authorize opens the authorization endpoint with a query.
func (b *browser) authorize(q url.Values) response {
	b.h.t.Helper()
	return b.get(b.h.url("authorize") + "?" + q.Encode())
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// form finds the form with the given id on a page and returns its action
// and hidden inputs.
func form(t testing.TB, page response, id string) (string, url.Values, bool) {
	t.Helper()
	re := regexp.MustCompile(`(?s)<form id="` + regexp.QuoteMeta(id) + `" method="post" action="([^"]*)">(.*?)</form>`)
	m := re.FindStringSubmatch(page.body)
	if m == nil {
		return "", nil, false
	}
	fields := url.Values{}
	for _, in := range hiddenInput.FindAllStringSubmatch(m[2], -1) {
		fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields, true
}

// login submits the login form of page.
func (b *browser) login(page response, username, password string) response {
	b.h.t.Helper()
	action, fields, ok := form(b.h.t, page, "login-form")
	require.Truef(b.h.t, ok, "no login form (status %d): %s", page.status, page.body)
	fields.Set("username", username)
	fields.Set("password", password)
	return b.post(action, fields)
}

// consent submits the consent form of page with approve or deny.
func (b *browser) consent(page response, decision string) response {
	b.h.t.Helper()
	action, fields, ok := form(b.h.t, page, "consent-form")
	require.Truef(b.h.t, ok, "no consent form (status %d): %s", page.status, page.body)
	fields.Set("decision", decision)
	return b.post(action, fields)
}

// callback checks that page redirects to the client's redirect URI and
// returns the query it carries.
func (b *browser) callback(page response) url.Values {
	b.h.t.Helper()
	require.Equalf(b.h.t, http.StatusSeeOther, page.status, "expected a redirect to the client: %s", page.body)
	loc := page.location(b.h.t)
	loc.RawQuery, loc.Fragment = "", ""
	require.Equal(b.h.t, testRedirect, loc.String())
	return page.location(b.h.t).Query()
}

// authorizeCode runs the authorization request through login (when asked)
// and consent (when asked) and returns the successful callback's query.
func (b *browser) authorizeCode(q url.Values, username, password string) url.Values {
	b.h.t.Helper()
	page := b.authorize(q)
	if _, _, ok := form(b.h.t, page, "login-form"); ok {
		page = b.login(page, username, password)
	}
	if _, _, ok := form(b.h.t, page, "consent-form"); ok {
		page = b.consent(page, "approve")
	}
	cb := b.callback(page)
	require.NotEmptyf(b.h.t, cb.Get("code"), "callback without code: %v", cb)
	return cb
}

// errorPage asserts the HTML error page and returns its error code.
func errorPage(t testing.TB, r response) string {
	t.Helper()
	require.Emptyf(t, r.header.Get("Location"), "an error page must not redirect")
	require.Contains(t, r.header.Get("Content-Type"), "text/html")
	require.Contains(t, r.body, `id="oauth-error"`)
	m := regexp.MustCompile(`<code id="oauth-error-code">([^<]*)</code>`).FindStringSubmatch(r.body)
	require.NotNil(t, m)
	return m[1]
}
