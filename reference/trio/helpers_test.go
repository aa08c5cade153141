package trio_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/oauthtrio/oauthtrio/reference/internal/htmlnode"

	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/store"
	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// The test relying party: a confidential client whose redirect URI is never
// fetched. The browser stops at it and the test reads the Location.
const (
	testClientID     = "trio-test-client"
	testClientSecret = "trio-test-client-secret"
	testRedirectURI  = "https://127.0.0.1:1/cb"
)

// Fixture users.
const (
	developer         = "developer"
	developerPassword = "test"
	developerName     = "Miguel de Cervantes Saavedra"
)

// startTrio starts an in-memory trio on a free loopback port with the test
// client registered, and stops it when the test ends.
func startTrio(t *testing.T) *trio.Trio {
	t.Helper()
	return startTrioWith(t, trio.Config{Addr: "127.0.0.1:0", InMemory: true})
}

func startTrioWith(t *testing.T, cfg trio.Config) *trio.Trio {
	t.Helper()
	tr, err := trio.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, tr.Close(ctx))
	})
	registerTestClient(t, tr)
	return tr
}

// registerTestClient upserts the test relying party, built the way the
// fixtures build theirs.
func registerTestClient(t *testing.T, tr *trio.Trio) {
	t.Helper()
	secret, err := authserver.HashSecret(testClientSecret)
	require.NoError(t, err)
	err = tr.Store.UpsertClient(context.Background(), &store.Client{
		DefaultOpenIDConnectClient: &fosite.DefaultOpenIDConnectClient{
			DefaultClient: &fosite.DefaultClient{
				ID: testClientID, Secret: secret, RedirectURIs: []string{testRedirectURI},
				GrantTypes:    []string{"authorization_code", "refresh_token"},
				ResponseTypes: []string{"code"},
				Scopes:        []string{"openid", "profile", "email", "offline_access", "my/scope"},
				Audience:      []string{resourceAudience(tr)},
			},
			TokenEndpointAuthMethod: "client_secret_basic",
		},
		Name:      "Trio test client",
		CreatedAt: time.Now().UTC().Truncate(time.Second),
	})
	require.NoError(t, err)
}

// resourceAudience is the resource server's identifier, the aud of the
// trio's access tokens.
func resourceAudience(tr *trio.Trio) string { return tr.URL() + "/resserver" }

// browser is a user agent: it keeps cookies and follows redirects, except
// to the test redirect URI, where it stops so the test can read the
// authorization response.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T, tr *trio.Trio) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	redirect, err := url.Parse(testRedirectURI)
	require.NoError(t, err)
	return &browser{t: t, c: &http.Client{
		Transport: tr.HTTPClient().Transport,
		Jar:       jar,
		Timeout:   15 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == redirect.Host {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

// page is a fetched document.
type page struct {
	status   int
	location *url.URL // set on a redirect to the test redirect URI
	doc      *html.Node
	body     string
}

func (b *browser) get(target string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *browser) post(target string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	p := &page{status: resp.StatusCode, body: string(raw)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		p.location, err = resp.Location()
		require.NoError(b.t, err)
		return p
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		p.doc, err = html.Parse(strings.NewReader(p.body))
		require.NoError(b.t, err)
	}
	return p
}

// has reports whether the page has an element with this id.
func (p *page) has(id string) bool { return p.doc != nil && byID(p.doc, id) != nil }

// text is the text content of the element with this id.
func (p *page) text(t *testing.T, id string) string {
	t.Helper()
	require.True(t, p.has(id), "the page has no #%s:\n%s", id, p.body)
	return strings.TrimSpace(textOf(byID(p.doc, id)))
}

// submit posts the form with this id, its hidden and filled-in inputs
// merged with fields, to its action.
func (b *browser) submit(p *page, formID string, fields url.Values) *page {
	b.t.Helper()
	require.True(b.t, p.has(formID), "the page has no #%s form (status %d):\n%s", formID, p.status, p.body)
	form := byID(p.doc, formID)
	values := url.Values{}
	walk(form, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" && attr(n, "type") != "password" {
			values.Set(attr(n, "name"), attr(n, "value"))
		}
		return false
	})
	for k, v := range fields {
		values[k] = v
	}
	action := attr(form, "action")
	require.NotEmpty(b.t, action)
	return b.post(action, values)
}

// login fills in the login form.
func (b *browser) login(p *page, username, password string) *page {
	b.t.Helper()
	return b.submit(p, "login-form", url.Values{"username": {username}, "password": {password}})
}

// consent answers the consent form with approve or deny.
func (b *browser) consent(p *page, decision string) *page {
	b.t.Helper()
	return b.submit(p, "consent-form", url.Values{"decision": {decision}})
}

// authorizationResponse returns the parameters the browser was redirected
// to the test redirect URI with.
func authorizationResponse(t *testing.T, p *page) url.Values {
	t.Helper()
	require.NotNil(t, p.location, "expected a redirect to the client, got status %d:\n%s", p.status, p.body)
	require.Equal(t, testRedirectURI, (&url.URL{Scheme: p.location.Scheme, Host: p.location.Host, Path: p.location.Path}).String())
	return p.location.Query()
}

// The page helpers of reference/internal/htmlnode, by their short names.
var (
	walk   = htmlnode.Find
	byID   = htmlnode.ByID
	attr   = htmlnode.Attr
	textOf = htmlnode.Text
)

// postForm makes a back-channel form POST with HTTP Basic client
// authentication (RFC 6749 §2.3.1) and decodes a JSON answer, if any.
func postForm(t *testing.T, tr *trio.Trio, endpoint, clientID, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := tr.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var body map[string]any
	if len(strings.TrimSpace(string(raw))) > 0 {
		require.NoError(t, json.Unmarshal(raw, &body), "not JSON: %s", raw)
	}
	return resp.StatusCode, body
}

// introspect asks the introspection endpoint about a token as the resource
// server (RFC 7662 §2.1).
func introspect(t *testing.T, tr *trio.Trio, token string) map[string]any {
	t.Helper()
	status, body := postForm(t, tr, tr.Issuer()+"/introspection", "resserver", "resserver-secret",
		url.Values{"token": {token}})
	require.Equal(t, http.StatusOK, status, "introspection: %v", body)
	return body
}

// revoke revokes a token at the revocation endpoint (RFC 7009 §2.1).
func revoke(t *testing.T, tr *trio.Trio, clientID, secret, token string) {
	t.Helper()
	status, body := postForm(t, tr, tr.Issuer()+"/revocation", clientID, secret, url.Values{"token": {token}})
	require.Equal(t, http.StatusOK, status, "revocation: %v", body)
}
