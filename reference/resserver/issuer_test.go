package resserver

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"
)

// Credentials of the resource server at the test issuer. They contain the
// characters RFC 6749 §2.3.1 form-encoding exists for.
const (
	testClientID     = "resserver:1"
	testClientSecret = "s3cr:et+/%&= x"
)

// testIssuer is a stand-in authorization server: discovery, a JWKS and an
// introspection endpoint backed by a map of token responses.
type testIssuer struct {
	srv    *httptest.Server
	issuer string

	mu        sync.Mutex
	published []jose.JSONWebKey // public keys served at the JWKS
	tokens    map[string]map[string]any

	discoveryFetches atomic.Int32
	jwksFetches      atomic.Int32
	introspections   atomic.Int32
	introspectionOff atomic.Bool
	jwksOff          atomic.Bool
}

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	ti := &testIssuer{tokens: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authserver/oauth2/.well-known/openid-configuration", ti.discovery)
	mux.HandleFunc("GET /authserver/oauth2/jwks", ti.jwks)
	mux.HandleFunc("POST /authserver/oauth2/introspection", ti.introspect)
	ti.srv = httptest.NewTLSServer(mux)
	t.Cleanup(ti.srv.Close)
	ti.issuer = ti.srv.URL + "/authserver/oauth2"
	return ti
}

func (ti *testIssuer) discovery(w http.ResponseWriter, _ *http.Request) {
	ti.discoveryFetches.Add(1)
	serveJSON(w, http.StatusOK, map[string]any{
		"issuer":                 ti.issuer,
		"jwks_uri":               ti.issuer + "/jwks",
		"introspection_endpoint": ti.issuer + "/introspection",
	})
}

func (ti *testIssuer) jwks(w http.ResponseWriter, _ *http.Request) {
	ti.jwksFetches.Add(1)
	if ti.jwksOff.Load() {
		http.Error(w, "key store unavailable", http.StatusInternalServerError)
		return
	}
	ti.mu.Lock()
	set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), ti.published...)}
	ti.mu.Unlock()
	serveJSON(w, http.StatusOK, set)
}

func (ti *testIssuer) introspect(w http.ResponseWriter, r *http.Request) {
	ti.introspections.Add(1)
	if ti.introspectionOff.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if !ok || id != testClientID || secret != testClientSecret {
		serveJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if err := r.ParseForm(); err != nil {
		serveJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	ti.mu.Lock()
	resp, known := ti.tokens[r.PostForm.Get("token")]
	ti.mu.Unlock()
	// RFC 7662 §2.2: an unknown token is just inactive.
	if !known {
		resp = map[string]any{"active": false}
	}
	serveJSON(w, http.StatusOK, resp)
}

// publish replaces the JWKS with the public halves of keys.
func (ti *testIssuer) publish(keys ...jose.JSONWebKey) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.published = nil
	for _, k := range keys {
		ti.published = append(ti.published, k.Public())
	}
}

// setIntrospection makes the introspection endpoint answer resp for token.
func (ti *testIssuer) setIntrospection(token string, resp map[string]any) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.tokens[token] = resp
}

// revoke marks a token inactive.
func (ti *testIssuer) revoke(token string) {
	ti.setIntrospection(token, map[string]any{"active": false})
}

func serveJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newSigningKey generates an RSA key with a kid, as the AS would publish.
func newSigningKey(t testing.TB, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}
}

// sign produces a compact JWS of claims with the given key, algorithm and typ.
func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	require.NoError(t, err)
	return raw
}

// testClock is an adjustable clock shared by a test and the Verifier.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
