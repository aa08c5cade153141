package trio_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// relyingParty is the test client seen through golang.org/x/oauth2 and
// go-oidc, with discovery read from the trio's issuer.
type relyingParty struct {
	tr       *trio.Trio
	ctx      context.Context
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	config   oauth2.Config
	meta     providerMetadata
}

type providerMetadata struct {
	JWKSURI string `json:"jwks_uri"`
}

func newRelyingParty(t *testing.T, tr *trio.Trio, scopes ...string) *relyingParty {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), tr.HTTPClient())
	provider, err := oidc.NewProvider(ctx, tr.Issuer())
	require.NoError(t, err)
	rp := &relyingParty{
		tr: tr, ctx: ctx, provider: provider,
		verifier: provider.Verifier(&oidc.Config{ClientID: testClientID}),
		config: oauth2.Config{
			ClientID: testClientID, ClientSecret: testClientSecret,
			Endpoint: provider.Endpoint(), RedirectURL: testRedirectURI, Scopes: scopes,
		},
	}
	require.NoError(t, provider.Claims(&rp.meta))
	return rp
}

// request is one authorization request and the secrets the client keeps
// for it.
type request struct {
	state, nonce, verifier string
	url                    string
}

// newRequest builds an authorization request with state, nonce and PKCE
// S256 (RFC 7636 §4.2), plus any extra parameters.
func (rp *relyingParty) newRequest(t *testing.T, extra ...oauth2.AuthCodeOption) request {
	r := request{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(r.nonce), oauth2.S256ChallengeOption(r.verifier)}, extra...)
	r.url = rp.config.AuthCodeURL(r.state, opts...)
	return r
}

// code checks a successful authorization response (RFC 6749 §4.1.2, RFC
// 9207 §2) and returns the code.
func (rp *relyingParty) code(t *testing.T, req request, p *page) string {
	t.Helper()
	q := authorizationResponse(t, p)
	require.Empty(t, q.Get("error"), "error_description: %s", q.Get("error_description"))
	assert.Equal(t, req.state, q.Get("state"))
	assert.Equal(t, rp.tr.Issuer(), q.Get("iss"))
	require.NotEmpty(t, q.Get("code"))
	return q.Get("code")
}

func (rp *relyingParty) exchange(t *testing.T, req request, code string) *oauth2.Token {
	t.Helper()
	tok, err := rp.config.Exchange(rp.ctx, code, oauth2.VerifierOption(req.verifier))
	require.NoError(t, err)
	return tok
}

// authorize runs a whole authorization as the developer in browser b,
// logging in and consenting when asked, and returns the tokens.
func (rp *relyingParty) authorize(t *testing.T, b *browser) *oauth2.Token {
	t.Helper()
	req := rp.newRequest(t)
	p := b.get(req.url)
	if p.has("login-form") {
		p = b.login(p, developer, developerPassword)
	}
	if p.has("consent-form") {
		p = b.consent(p, "approve")
	}
	return rp.exchange(t, req, rp.code(t, req, p))
}

// jwks fetches the published keys.
func (rp *relyingParty) jwks(t *testing.T) *jose.JSONWebKeySet {
	t.Helper()
	resp, err := rp.tr.HTTPClient().Get(rp.meta.JWKSURI)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var set jose.JSONWebKeySet
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	return &set
}

// refresh uses a refresh token (RFC 6749 §6).
func (rp *relyingParty) refresh(refreshToken string) (*oauth2.Token, error) {
	return rp.config.TokenSource(rp.ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}

var allScopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess, "my/scope"}

func TestAuthorizationCodeFlow(t *testing.T) {
	tr := startTrio(t)
	rp := newRelyingParty(t, tr, allScopes...)
	b := newBrowser(t, tr)
	req := rp.newRequest(t)

	login := b.get(req.url)
	require.Equal(t, http.StatusOK, login.status)
	require.True(t, login.has("login-form"), login.body)
	consent := b.login(login, developer, developerPassword)
	require.True(t, consent.has("consent-form"), consent.body)
	loggedInAt := time.Now()
	tok := rp.exchange(t, req, rp.code(t, req, b.consent(consent, "approve")))

	assert.True(t, strings.EqualFold(tok.TokenType, "bearer"), tok.TokenType)
	require.NotEmpty(t, tok.RefreshToken, "offline_access was granted")

	t.Run("ID token", func(t *testing.T) {
		raw, ok := tok.Extra("id_token").(string)
		require.True(t, ok, "OIDC Core §3.1.3.3: the token response carries an id_token")
		idt, err := rp.verifier.Verify(rp.ctx, raw)
		require.NoError(t, err)
		assert.Equal(t, req.nonce, idt.Nonce, "OIDC Core §3.1.3.7 item 11")
		assert.Equal(t, developer, idt.Subject)
		// OIDC Core §3.1.3.8: at_hash binds the ID token to the access token.
		require.NotEmpty(t, idt.AccessTokenHash)
		require.NoError(t, idt.VerifyAccessToken(tok.AccessToken))

		var claims struct {
			AZP      string `json:"azp"`
			Name     string `json:"name"`
			AuthTime int64  `json:"auth_time"`
			SID      string `json:"sid"`
		}
		require.NoError(t, idt.Claims(&claims))
		assert.Equal(t, testClientID, claims.AZP)
		// The workshop's BeforeAuthenticate makes name an essential claim.
		assert.Equal(t, developerName, claims.Name)
		assert.WithinDuration(t, loggedInAt, time.Unix(claims.AuthTime, 0), time.Minute)
		assert.NotEmpty(t, claims.SID)
	})

	t.Run("access token is an RFC 9068 JWT", func(t *testing.T) {
		parsed, err := jwt.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
		require.NoError(t, err)
		require.Len(t, parsed.Headers, 1)
		h := parsed.Headers[0]
		// RFC 9068 §2.1: typ is at+jwt.
		assert.Equal(t, "at+jwt", h.ExtraHeaders[jose.HeaderType])
		keys := rp.jwks(t).Key(h.KeyID)
		require.Len(t, keys, 1, "the JWKS publishes the key %q", h.KeyID)

		var claims struct {
			jwt.Claims
			ClientID string `json:"client_id"`
			Scope    string `json:"scope"`
		}
		require.NoError(t, parsed.Claims(keys[0].Key, &claims))
		// RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti.
		require.NoError(t, claims.Validate(jwt.Expected{
			Issuer: tr.Issuer(), AnyAudience: jwt.Audience{resourceAudience(tr)}, Time: time.Now(),
		}))
		assert.Equal(t, developer, claims.Subject)
		assert.Equal(t, testClientID, claims.ClientID)
		assert.ElementsMatch(t, allScopes, strings.Fields(claims.Scope))
		assert.NotEmpty(t, claims.ID)
		require.NotNil(t, claims.IssuedAt)
		require.NotNil(t, claims.Expiry)
		assert.True(t, claims.Expiry.Time().After(claims.IssuedAt.Time()))
	})

	t.Run("userinfo", func(t *testing.T) {
		info, err := rp.provider.UserInfo(rp.ctx, oauth2.StaticTokenSource(tok))
		require.NoError(t, err)
		assert.Equal(t, developer, info.Subject)
		assert.Equal(t, "miguel.cervantes@quiijote.es", info.Email)
		var claims map[string]any
		require.NoError(t, info.Claims(&claims))
		assert.Equal(t, developerName, claims["name"])
	})

	t.Run("introspection by the resource server", func(t *testing.T) {
		got := introspect(t, tr, tok.AccessToken)
		assert.Equal(t, true, got["active"])
		assert.Equal(t, developer, got["username"])
		assert.Equal(t, testClientID, got["client_id"])
		assert.Equal(t, "value1234", got["my-property"], "the workshop's ValidateUser adds my-property")
	})

	t.Run("refresh rotates and detects replay", func(t *testing.T) {
		refreshed, err := rp.refresh(tok.RefreshToken)
		require.NoError(t, err)
		require.NotEmpty(t, refreshed.RefreshToken)
		assert.NotEqual(t, tok.RefreshToken, refreshed.RefreshToken, "RFC 9700 §4.14.2: refresh tokens rotate")
		assert.NotEqual(t, tok.AccessToken, refreshed.AccessToken)
		assert.Equal(t, true, introspect(t, tr, refreshed.AccessToken)["active"])

		// RFC 9700 §4.14.2: a used refresh token is refused, and its reuse
		// revokes the tokens issued from it.
		_, err = rp.refresh(tok.RefreshToken)
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "invalid_grant", re.ErrorCode)
		assert.Equal(t, false, introspect(t, tr, refreshed.AccessToken)["active"])
	})
}

func TestRevocation(t *testing.T) {
	tr := startTrio(t)
	rp := newRelyingParty(t, tr, allScopes...)

	tests := []struct {
		name  string
		token func(*oauth2.Token) string
	}{
		{"access token", func(tok *oauth2.Token) string { return tok.AccessToken }},
		// RFC 7009 §2.1: revoking a refresh token should also invalidate the
		// access tokens of the same grant.
		{"refresh token", func(tok *oauth2.Token) string { return tok.RefreshToken }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := rp.authorize(t, newBrowser(t, tr))
			require.Equal(t, true, introspect(t, tr, tok.AccessToken)["active"])

			revoke(t, tr, testClientID, testClientSecret, tt.token(tok))

			assert.Equal(t, false, introspect(t, tr, tok.AccessToken)["active"])
			_, err := rp.refresh(tok.RefreshToken)
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "invalid_grant", re.ErrorCode)
		})
	}
}

func TestSingleSignOn(t *testing.T) {
	tr := startTrio(t)
	rp := newRelyingParty(t, tr, allScopes...)
	b := newBrowser(t, tr)

	first := rp.newRequest(t)
	consent := b.login(b.get(first.url), developer, developerPassword)
	firstTok := rp.exchange(t, first, rp.code(t, first, b.consent(consent, "approve")))

	// The login session and the remembered consent answer the second
	// request without a page.
	second := rp.newRequest(t)
	secondTok := rp.exchange(t, second, rp.code(t, second, b.get(second.url)))

	ids := func(tok *oauth2.Token) (sid string, authTime int64) {
		raw, _ := tok.Extra("id_token").(string)
		idt, err := rp.verifier.Verify(rp.ctx, raw)
		require.NoError(t, err)
		var c struct {
			SID      string `json:"sid"`
			AuthTime int64  `json:"auth_time"`
		}
		require.NoError(t, idt.Claims(&c))
		return c.SID, c.AuthTime
	}
	sid1, auth1 := ids(firstTok)
	sid2, auth2 := ids(secondTok)
	assert.Equal(t, sid1, sid2, "one login session")
	// OIDC Core §2: auth_time is when the user authenticated, not when
	// the second request was answered.
	assert.Equal(t, auth1, auth2)

	// OIDC Core §3.1.2.1: prompt=consent asks for consent again, but not
	// for the password.
	again := rp.newRequest(t, oauth2.SetAuthURLParam("prompt", "consent"))
	p := b.get(again.url)
	assert.False(t, p.has("login-form"), p.body)
	require.True(t, p.has("consent-form"), p.body)
	rp.exchange(t, again, rp.code(t, again, b.consent(p, "approve")))
}

// TestAuthorizationPages runs each case on its own trio: consents are
// remembered per user and client for the life of the process.
func TestAuthorizationPages(t *testing.T) {
	t.Run("prompt=login asks for the password again", func(t *testing.T) {
		tr := startTrio(t)
		rp := newRelyingParty(t, tr, allScopes...)
		b := newBrowser(t, tr)
		rp.authorize(t, b)

		// OIDC Core §3.1.2.1: prompt=login re-authenticates.
		req := rp.newRequest(t, oauth2.SetAuthURLParam("prompt", "login"))
		login := b.get(req.url)
		require.True(t, login.has("login-form"), login.body)
		// The consent is remembered: the password leads straight back.
		rp.exchange(t, req, rp.code(t, req, b.login(login, developer, developerPassword)))
	})

	t.Run("a wrong password shows an error", func(t *testing.T) {
		tr := startTrio(t)
		rp := newRelyingParty(t, tr, allScopes...)
		b := newBrowser(t, tr)
		req := rp.newRequest(t)

		p := b.login(b.get(req.url), developer, "not-the-password")
		require.True(t, p.has("login-error"), p.body)
		assert.True(t, p.has("login-form"), "the form is shown again")
		assert.NotContains(t, p.body, "not-the-password")
		// The form stays usable.
		consent := b.login(p, developer, developerPassword)
		rp.exchange(t, req, rp.code(t, req, b.consent(consent, "approve")))
	})

	t.Run("denying consent answers access_denied", func(t *testing.T) {
		tr := startTrio(t)
		rp := newRelyingParty(t, tr, allScopes...)
		b := newBrowser(t, tr)
		req := rp.newRequest(t)

		consent := b.login(b.get(req.url), developer, developerPassword)
		q := authorizationResponse(t, b.consent(consent, "deny"))
		// RFC 6749 §4.1.2.1, with iss per RFC 9207 §2.
		assert.Equal(t, "access_denied", q.Get("error"))
		assert.Equal(t, req.state, q.Get("state"))
		assert.Equal(t, tr.Issuer(), q.Get("iss"))
		assert.False(t, q.Has("code"))
	})

	t.Run("prompt=none without a session answers login_required", func(t *testing.T) {
		tr := startTrio(t)
		rp := newRelyingParty(t, tr, allScopes...)
		req := rp.newRequest(t, oauth2.SetAuthURLParam("prompt", "none"))

		q := authorizationResponse(t, newBrowser(t, tr).get(req.url))
		// OIDC Core §3.1.2.6.
		assert.Equal(t, "login_required", q.Get("error"))
		assert.Equal(t, req.state, q.Get("state"))
		assert.Equal(t, tr.Issuer(), q.Get("iss"))
	})
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, so that two trios in turn can share one issuer.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// privateDir is a state directory only its owner may enter, as the trio
// requires; t.TempDir's are open to all.
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o700))
	return dir
}

func TestStateSurvivesRestart(t *testing.T) {
	cfg := trio.Config{Addr: freeAddr(t), StateDir: privateDir(t)}
	ctx := context.Background()

	first, err := trio.Start(ctx, cfg)
	require.NoError(t, err)
	closed := false
	stop := func() {
		shutdown, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		closed = true
		require.NoError(t, first.Close(shutdown))
	}
	t.Cleanup(func() {
		if !closed {
			stop()
		}
	})
	registerTestClient(t, first)
	rp := newRelyingParty(t, first, allScopes...)
	tok := rp.authorize(t, newBrowser(t, first))
	kid := first.Keys.Active().KeyID
	issuer := first.Issuer()
	stop()

	second := startTrioWith(t, cfg)
	require.Equal(t, issuer, second.Issuer())
	rp = newRelyingParty(t, second, allScopes...)

	assert.Equal(t, kid, second.Keys.Active().KeyID, "the signing key is kept")
	assert.NotEmpty(t, rp.jwks(t).Key(kid), "the JWKS still publishes the key")
	// Tokens issued before the restart still verify and are still active.
	assert.Equal(t, true, introspect(t, second, tok.AccessToken)["active"])

	refreshed, err := rp.refresh(tok.RefreshToken)
	require.NoError(t, err, "the refresh token outlives the restart")
	assert.NotEmpty(t, refreshed.AccessToken)
	raw, _ := refreshed.Extra("id_token").(string)
	_, err = rp.verifier.Verify(rp.ctx, raw)
	assert.NoError(t, err)

	// The consent given before the restart still holds: no consent page.
	req := rp.newRequest(t)
	b := newBrowser(t, second)
	p := b.login(b.get(req.url), developer, developerPassword)
	assert.False(t, p.has("consent-form"), "consent is asked again after a restart")
	rp.code(t, req, p)
}
