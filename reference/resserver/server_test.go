package resserver

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	plainPath     = "/resserver/protected-resources/"
	delegatedPath = "/resserver/protected-resources-delegated/"
	spaOrigin     = "http://localhost:8080"
)

// fixture is a resource server wired to a test issuer with one signing key.
type fixture struct {
	iss      *testIssuer
	clock    *testClock
	key      jose.JSONWebKey
	audience string
	srv      *Server
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

func newFixtureWith(t testing.TB, mutate func(*Config)) *fixture {
	t.Helper()
	ti := newTestIssuer(t)
	f := &fixture{
		iss:   ti,
		clock: &testClock{t: time.Now().Truncate(time.Second)},
		key:   newSigningKey(t, "k1"),
	}
	ti.publish(f.key)
	cfg := Config{
		Issuer:         ti.issuer,
		ClientID:       testClientID,
		ClientSecret:   testClientSecret,
		HTTPClient:     ti.srv.Client(),
		AllowedOrigins: []string{spaOrigin},
		Now:            f.clock.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	f.srv = srv
	f.audience = srv.cfg.Audience
	return f
}

// claims returns the claims of a valid RFC 9068 access token for developer.
func (f *fixture) claims() map[string]any {
	now := f.clock.Now()
	return map[string]any{
		"iss":       f.iss.issuer,
		"sub":       "developer",
		"aud":       []string{f.audience},
		"client_id": "simple-web-page",
		"scope":     "openid profile my/scope",
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"jti":       "jti-" + now.Format(time.RFC3339Nano),
	}
}

// activate makes introspection report token active, as the AS does for
// tokens it issued.
func (f *fixture) activate(token string, claims map[string]any) {
	resp := map[string]any{"active": true, "username": "developer", "token_type": "access_token"}
	for _, k := range []string{"scope", "client_id", "sub", "exp", "iat", "iss", "aud"} {
		if v, ok := claims[k]; ok {
			resp[k] = v
		}
	}
	f.iss.setIntrospection(token, resp)
}

// token signs claims with the fixture key as an at+jwt and activates it.
func (f *fixture) token(t testing.TB, edit func(map[string]any)) string {
	t.Helper()
	c := f.claims()
	if edit != nil {
		edit(c)
	}
	raw := sign(t, f.key, jose.RS256, "at+jwt", c)
	f.activate(raw, c)
	return raw
}

func (f *fixture) get(path string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// challengeRE matches the Bearer challenges this server sends (RFC 6750 §3).
var challengeRE = regexp.MustCompile(`^Bearer realm="resserver"(, error="([a-z_]+)", error_description="([\x20\x21\x23-\x5b\x5d-\x7e]*)"(, scope="([^"]*)")?)?$`)

// descriptionRE is RFC 6749 §5.2's error_description character set.
var descriptionRE = regexp.MustCompile(`^[\x20\x21\x23-\x5b\x5d-\x7e]*$`)

// assertRefusal checks status, challenge error code and the JSON body.
func assertRefusal(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	m := challengeRE.FindStringSubmatch(rec.Header().Get("WWW-Authenticate"))
	require.NotNil(t, m, "challenge %q", rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, code, m[2])
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var body map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, code, body["error"])
	assert.Regexp(t, descriptionRE, body["error_description"])
	assert.NotEmpty(t, body["error_description"])
}

func TestProtectedResource(t *testing.T) {
	for _, path := range []string{plainPath, strings.TrimSuffix(plainPath, "/")} {
		t.Run(path, func(t *testing.T) {
			f := newFixture(t)
			rec := f.get(path, bearer(f.token(t, nil)))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.JSONEq(t, `{
				"message": "OAuth 2.0 access token used to authorize resource server (RFC 6749). Access token validated using introspection endpoint (RFC 7662)",
				"tokenScope": "openid profile my/scope",
				"tokenUsername": "developer",
				"irisUsername": "UnknownUser",
				"irisRoles": "",
				"client_id": "simple-web-page",
				"sub": "developer"
			}`, rec.Body.String())
			// The workshop's key order is kept.
			assert.True(t, strings.HasPrefix(rec.Body.String(), `{"message":`))
		})
	}
}

func TestDelegatedResource(t *testing.T) {
	for _, path := range []string{delegatedPath, strings.TrimSuffix(delegatedPath, "/")} {
		t.Run(path, func(t *testing.T) {
			f := newFixture(t)
			rec := f.get(path, bearer(f.token(t, nil)))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var body map[string]string
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, "OAuth2developer", body["irisUsername"])
			assert.Equal(t, "%DB_DEFAULT,%Operator", body["irisRoles"])
			assert.Equal(t, "developer", body["tokenUsername"])
			assert.Equal(t, Message, body["message"])
		})
	}
}

func TestNoToken(t *testing.T) {
	f := newFixture(t)
	for _, h := range []http.Header{nil, {"Authorization": {"Basic dXNlcjpwYXNz"}}} {
		rec := f.get(plainPath, h)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		// RFC 6750 §3.1: no error attribute when no token was sent.
		assert.Equal(t, `Bearer realm="resserver"`, rec.Header().Get("WWW-Authenticate"))
		assert.Empty(t, rec.Body.String())
	}
	assert.Zero(t, f.iss.introspections.Load(), "nothing to introspect")
}

func TestRefusedTokens(t *testing.T) {
	otherKey := newSigningKey(t, "k1")
	cases := []struct {
		name   string
		token  func(t *testing.T, f *fixture) string
		status int
		code   string
		desc   string
	}{
		{"malformed characters", func(*testing.T, *fixture) string { return "not a token!" }, 401, CodeInvalidToken, "malformed token"},
		{"malformed JWT", func(*testing.T, *fixture) string { return "eyJhbGciOiJSUzI1NiJ9.e30.A" }, 401, CodeInvalidToken, "malformed JWT"},
		{"JWT with a garbage payload", func(*testing.T, *fixture) string { return "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln" }, 401, CodeInvalidToken, "signature verification failed"},
		{"unknown opaque", func(*testing.T, *fixture) string { return "opaque-unknown" }, 401, CodeInvalidToken, "token is not active"},
		{"expired", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { c["exp"] = f.clock.Now().Add(-2 * time.Minute).Unix() })
		}, 401, CodeInvalidToken, "token expired"},
		{"not yet valid", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { c["nbf"] = f.clock.Now().Add(2 * time.Minute).Unix() })
		}, 401, CodeInvalidToken, "token not yet valid"},
		{"issued in the future", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { c["iat"] = f.clock.Now().Add(2 * time.Minute).Unix() })
		}, 401, CodeInvalidToken, "token issued in the future"},
		{"no exp", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { delete(c, "exp") })
		}, 401, CodeInvalidToken, "token has no exp"},
		{"tampered payload", func(t *testing.T, f *fixture) string {
			raw := f.token(t, nil)
			parts := strings.Split(raw, ".")
			c := f.claims()
			c["sub"] = "superuser"
			payload, err := json.Marshal(c)
			require.NoError(t, err)
			forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
			f.activate(forged, c)
			return forged
		}, 401, CodeInvalidToken, "signature verification failed"},
		{"signed by another key with the same kid", func(t *testing.T, f *fixture) string {
			c := f.claims()
			raw := sign(t, otherKey, jose.RS256, "at+jwt", c)
			f.activate(raw, c)
			return raw
		}, 401, CodeInvalidToken, "signature verification failed"},
		{"alg none", func(t *testing.T, f *fixture) string {
			// go-jose cannot produce an unsigned JWS, so the attacker's
			// token is assembled by hand, as the workshop's AS issues it.
			c := f.claims()
			payload, err := json.Marshal(c)
			require.NoError(t, err)
			raw := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"at+jwt","alg":"none","kid":"k1"}`)) +
				"." + base64.RawURLEncoding.EncodeToString(payload) + "."
			f.activate(raw, c)
			return raw
		}, 401, CodeInvalidToken, "signature algorithm not accepted"},
		{"HS256 with the public key as secret", func(t *testing.T, f *fixture) string {
			der, err := x509.MarshalPKIXPublicKey(f.key.Public().Key)
			require.NoError(t, err)
			secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			c := f.claims()
			raw := sign(t, jose.JSONWebKey{Key: secret, KeyID: "k1"}, jose.HS256, "at+jwt", c)
			f.activate(raw, c)
			return raw
		}, 401, CodeInvalidToken, "signature algorithm not accepted"},
		{"typ JWT", func(t *testing.T, f *fixture) string {
			c := f.claims()
			raw := sign(t, f.key, jose.RS256, "JWT", c)
			f.activate(raw, c)
			return raw
		}, 401, CodeInvalidToken, "token type is not at+jwt"},
		{"no typ", func(t *testing.T, f *fixture) string {
			c := f.claims()
			raw := sign(t, f.key, jose.RS256, "", c)
			f.activate(raw, c)
			return raw
		}, 401, CodeInvalidToken, "token type is not at+jwt"},
		{"wrong issuer", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { c["iss"] = f.iss.issuer + "/" })
		}, 401, CodeInvalidToken, "unexpected issuer"},
		{"wrong audience", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { c["aud"] = "simple-web-page" })
		}, 401, CodeInvalidToken, "audience does not include this resource server"},
		{"no client_id", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { delete(c, "client_id") })
		}, 401, CodeInvalidToken, "token has no client_id"},
		{"no sub", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { delete(c, "sub") })
		}, 401, CodeInvalidToken, "token has no sub"},
		{"revoked", func(t *testing.T, f *fixture) string {
			raw := f.token(t, nil)
			f.iss.revoke(raw)
			return raw
		}, 401, CodeInvalidToken, "token is not active"},
		{"missing scope", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { c["scope"] = "openid profile my/scope2" })
		}, 403, CodeInsufficientScope, "token lacks the required scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.get(plainPath, bearer(tc.token(t, f)))
			assertRefusal(t, rec, tc.status, tc.code)
			assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error_description="`+tc.desc+`"`)
			if tc.code == CodeInsufficientScope {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `scope="my/scope"`)
			}
		})
	}
}

func TestAcceptedVariants(t *testing.T) {
	cases := []struct {
		name  string
		token func(t *testing.T, f *fixture) string
	}{
		{"typ application/at+jwt", func(t *testing.T, f *fixture) string {
			c := f.claims()
			raw := sign(t, f.key, jose.RS256, "application/AT+JWT", c)
			f.activate(raw, c)
			return raw
		}},
		{"expired within leeway", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { c["exp"] = f.clock.Now().Add(-10 * time.Second).Unix() })
		}},
		{"aud as a string", func(t *testing.T, f *fixture) string {
			return f.token(t, func(c map[string]any) { c["aud"] = f.audience })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.get(plainPath, bearer(tc.token(t, f)))
			assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		})
	}
}

func TestTokenSentTwice(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, nil)
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name   string
		method string
		target string
		header http.Header
		body   string
	}{
		{"two Authorization headers", "GET", plainPath, http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}, ""},
		{"header and query", "GET", plainPath + "?access_token=" + tok, bearer(tok), ""},
		{"header and form", "POST", plainPath, http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {form}}, "access_token=" + tok},
		{"form twice", "POST", plainPath, http.Header{"Content-Type": {form}}, "access_token=" + tok + "&access_token=" + tok},
		{"query and form", "POST", plainPath + "?access_token=" + tok, http.Header{"Content-Type": {form}}, "access_token=" + tok},
		{"query alone is refused", "GET", plainPath + "?access_token=" + tok, nil, ""},
		{"empty bearer", "GET", plainPath, http.Header{"Authorization": {"Bearer "}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			for k, vs := range tc.header {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			assertRefusal(t, rec, http.StatusBadRequest, CodeInvalidRequest)
		})
	}
}

func TestFormBodyMethod(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, nil)
	req := httptest.NewRequest(http.MethodPost, delegatedPath, strings.NewReader("access_token="+tok))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	// RFC 6750 §2.2: any other content type is not the form method.
	req = httptest.NewRequest(http.MethodPost, plainPath, strings.NewReader(`{"access_token":"`+tok+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="resserver"`, rec.Header().Get("WWW-Authenticate"))
}

func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	require.Equal(t, http.StatusOK, f.get(plainPath, bearer(f.token(t, nil))).Code)
	require.EqualValues(t, 1, f.iss.jwksFetches.Load())

	// The AS rotates to k2 and drops k1.
	f.key = newSigningKey(t, "k2")
	f.iss.publish(f.key)
	f.clock.Advance(minRefetchInterval + time.Second)
	rec := f.get(plainPath, bearer(f.token(t, nil)))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.EqualValues(t, 2, f.iss.jwksFetches.Load(), "exactly one refetch")

	rec = f.get(plainPath, bearer(f.token(t, nil)))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.EqualValues(t, 2, f.iss.jwksFetches.Load(), "known kid, no refetch")

	// Unknown kids within the interval do not reach the issuer.
	f.key = newSigningKey(t, "k3")
	for range 3 {
		assertRefusal(t, f.get(plainPath, bearer(f.token(t, nil))), 401, CodeInvalidToken)
	}
	assert.EqualValues(t, 2, f.iss.jwksFetches.Load(), "refetch is rate-limited")
	assert.EqualValues(t, 1, f.iss.discoveryFetches.Load())
}

func TestOpaqueToken(t *testing.T) {
	cases := []struct {
		name   string
		resp   func(f *fixture) map[string]any
		status int
		code   string
	}{
		{"active", func(f *fixture) map[string]any {
			return map[string]any{"active": true, "scope": "my/scope", "client_id": "c1", "sub": "c1",
				"aud": []string{f.audience}, "iss": f.iss.issuer, "exp": f.clock.Now().Add(time.Hour).Unix(), "token_type": "bearer"}
		}, 200, ""},
		{"active, minimal", func(*fixture) map[string]any {
			return map[string]any{"active": true, "scope": "my/scope"}
		}, 200, ""},
		{"inactive", func(*fixture) map[string]any { return map[string]any{"active": false} }, 401, CodeInvalidToken},
		{"active as a string", func(*fixture) map[string]any { return map[string]any{"active": "true", "scope": "my/scope"} }, 401, CodeInvalidToken},
		{"refresh token", func(*fixture) map[string]any {
			return map[string]any{"active": true, "scope": "my/scope", "token_type": "refresh_token"}
		}, 401, CodeInvalidToken},
		{"wrong audience", func(*fixture) map[string]any {
			return map[string]any{"active": true, "scope": "my/scope", "aud": "elsewhere"}
		}, 401, CodeInvalidToken},
		{"wrong issuer", func(*fixture) map[string]any {
			return map[string]any{"active": true, "scope": "my/scope", "iss": "https://evil.example"}
		}, 401, CodeInvalidToken},
		{"expired", func(f *fixture) map[string]any {
			return map[string]any{"active": true, "scope": "my/scope", "exp": f.clock.Now().Add(-time.Hour).Unix()}
		}, 401, CodeInvalidToken},
		{"missing scope", func(*fixture) map[string]any {
			return map[string]any{"active": true, "scope": "openid"}
		}, 403, CodeInsufficientScope},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.iss.setIntrospection("ory_at_opaque.token-1", tc.resp(f))
			rec := f.get(plainPath, bearer("ory_at_opaque.token-1"))
			if tc.status == http.StatusOK {
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			} else {
				assertRefusal(t, rec, tc.status, tc.code)
			}
			assert.Zero(t, f.iss.jwksFetches.Load(), "opaque tokens need no keys")
		})
	}
}

func TestAuthorizationServerUnavailable(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, f *fixture) string
	}{
		{"introspection down", func(t *testing.T, f *fixture) string {
			f.iss.introspectionOff.Store(true)
			return f.token(t, nil)
		}},
		{"issuer unreachable", func(t *testing.T, f *fixture) string {
			tok := f.token(t, nil)
			f.iss.srv.Close()
			return tok
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tok := tc.setup(t, f)
			rec := f.get(plainPath, bearer(tok))
			require.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Equal(t, "5", rec.Header().Get("Retry-After"))
			assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "the token was not judged")
			assert.JSONEq(t, `{"error":"temporarily_unavailable","error_description":"the authorization server cannot be reached; retry later"}`, rec.Body.String())
		})
	}
}

func TestWrongIntrospectionCredentials(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.ClientSecret = "wrong" })
	rec := f.get(plainPath, bearer(f.token(t, nil)))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

func TestCORS(t *testing.T) {
	f := newFixture(t)
	preflight := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, delegatedPath, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		return rec
	}

	rec := preflight(spaOrigin)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, spaOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "GET, OPTIONS", rec.Header().Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "Authorization", rec.Header().Get("Access-Control-Allow-Headers"))
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"))
	assert.Contains(t, rec.Header().Values("Vary"), "Origin")

	for _, other := range []string{"https://evil.example", spaOrigin + ".evil.example", "http://localhost:8081", "null"} {
		rec = preflight(other)
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), other)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Methods"), other)
		assert.Contains(t, rec.Header().Values("Vary"), "Origin")
	}

	// The actual request: allowed origin is echoed, Referer never is.
	tok := f.token(t, nil)
	h := bearer(tok)
	h.Set("Origin", spaOrigin)
	rec = f.get(plainPath, h)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, spaOrigin, rec.Header().Get("Access-Control-Allow-Origin"))

	h = bearer(tok)
	h.Set("Referer", "https://evil.example/page")
	rec = f.get(plainPath, h)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))

	h = bearer(tok)
	h.Set("Origin", "https://evil.example")
	h.Set("Referer", spaOrigin+"/demo")
	rec = f.get(plainPath, h)
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestRouting(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/resserver/", "/resserver/protected-resources/x", "/protected-resources/", "/resserverprotected-resources/"} {
		assert.Equal(t, http.StatusNotFound, f.get(path, nil).Code, path)
	}
	req := httptest.NewRequest(http.MethodDelete, plainPath, nil)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, POST, OPTIONS", rec.Header().Get("Allow"))
}

func TestVerifierStandalone(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, nil)
	info, err := f.srv.Verifier().VerifyAccessToken(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, "developer", info.Subject)
	assert.Equal(t, "developer", info.Username)
	assert.Equal(t, "simple-web-page", info.ClientID)
	assert.Equal(t, f.iss.issuer, info.Issuer)
	assert.Equal(t, []string{f.audience}, info.Audience)
	assert.Equal(t, f.clock.Now().Add(time.Hour), info.Expiry)
	assert.True(t, info.JWT)
	assert.True(t, info.HasScope("my/scope"))
	assert.False(t, info.HasScope("my"))
	assert.Equal(t, "developer", info.Claims["sub"])

	_, err = f.srv.Verifier().VerifyAccessToken(context.Background(), "nope")
	var te *TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, CodeInvalidToken, te.Code)
}

func TestConfigDefaults(t *testing.T) {
	f := newFixture(t)
	cfg := f.srv.cfg
	assert.Equal(t, f.iss.srv.URL+"/resserver", cfg.Audience)
	assert.Equal(t, "my/scope", cfg.RequiredScope)
	assert.Equal(t, 30*time.Second, cfg.Leeway)
	assert.Equal(t, "resserver", cfg.Realm)
	assert.Equal(t, "/resserver", cfg.PathPrefix)

	for name, c := range map[string]Config{
		"no issuer":            {ClientID: "x"},
		"no client id":         {Issuer: "https://as.example/authserver/oauth2"},
		"audience undecidable": {Issuer: "https://as.example/oauth2", ClientID: "x"},
		"bad scope":            {Issuer: "https://as.example/authserver/oauth2", ClientID: "x", RequiredScope: `a"b`},
	} {
		_, err := New(c)
		assert.Error(t, err, name)
	}
}

func TestSanitizeDescription(t *testing.T) {
	for _, in := range []string{"plain", "quote \" backslash \\ tab\t nl\n", "ünïcödé", strings.Repeat("x", 500), "\x00\x7f"} {
		out := sanitizeDescription(in)
		assert.Regexp(t, descriptionRE, out)
		assert.LessOrEqual(t, len(out), maxDescription)
	}
	assert.Equal(t, "quote ? backslash ? tab? nl?", sanitizeDescription("quote \" backslash \\ tab\t nl\n"))
}

func TestConfiguredEndpointsSkipDiscovery(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) {
		c.JWKSURL = c.Issuer + "/jwks"
		c.IntrospectionURL = c.Issuer + "/introspection"
	})
	rec := f.get(plainPath, bearer(f.token(t, nil)))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Zero(t, f.iss.discoveryFetches.Load())
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) {
		// Same server, but the discovery document names the issuer
		// without the trailing slash (OpenID Connect Discovery §4.3).
		c.Issuer += "/"
		c.Audience = "https://rs.example/resserver"
	})
	rec := f.get(plainPath, bearer("opaque-token"))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

func TestJWKSFailureIsRateLimited(t *testing.T) {
	f := newFixture(t)
	f.iss.jwksOff.Store(true)
	for range 3 {
		assert.Equal(t, http.StatusServiceUnavailable, f.get(plainPath, bearer(f.token(t, nil))).Code)
	}
	assert.EqualValues(t, 1, f.iss.jwksFetches.Load())

	f.iss.jwksOff.Store(false)
	f.clock.Advance(retryAfterFailure)
	assert.Equal(t, http.StatusOK, f.get(plainPath, bearer(f.token(t, nil))).Code)
	assert.EqualValues(t, 2, f.iss.jwksFetches.Load())
}
