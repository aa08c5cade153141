package client

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/require"
)

// Test client credentials. The secret holds characters that RFC 6749 §2.3.1
// form-encoding changes, so a client that skips the encoding fails.
const (
	testClientID     = "simple-web-page"
	testClientSecret = "test secret+/&="
	testSubject      = "developer"
)

// opBehaviour makes the fake provider misbehave in one way; the zero value
// behaves correctly.
type opBehaviour struct {
	forgeState        string        // the authorization response carries this state
	errorCode         string        // the authorization response is this error
	nonce             string        // the ID token carries this nonce
	atHash            string        // the ID token carries this at_hash
	azp               string        // the ID token's azp; default the client id
	omitAZP           bool          // the ID token has no azp
	aud               []string      // the ID token's aud; default the client id
	advertiseIss      bool          // discovery says authorization_response_iss_parameter_supported
	iss               string        // the iss parameter sent; default the issuer when advertised
	omitIss           bool          // no iss parameter, even when advertised
	opaqueAccessToken bool          // access tokens are random strings, not JWTs
	noRefreshToken    bool          // no refresh token is issued
	noEndSession      bool          // discovery has no end_session_endpoint
	tokenType         string        // the token_type; default "bearer"
	refreshSubject    string        // the sub of ID tokens from a refresh
	omitIAT           bool          // the ID token has no iat
	iatOffset         time.Duration // the ID token's iat is now plus this
}

// authRequest is what the fake provider remembers about one code.
type authRequest struct {
	nonce, challenge, redirectURI, scope string
}

// fakeOP is a minimal OpenID provider with the workshop's paths, plus the two
// resource server endpoints, on one TLS test server.
type fakeOP struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	b      opBehaviour

	atSigner, idSigner jose.Signer
	jwks               jose.JSONWebKeySet

	mu             sync.Mutex
	down           bool
	codes          map[string]authRequest
	accessTokens   map[string]string // token → scope
	refreshTokens  map[string]string // token → scope
	lastAuthorize  url.Values
	lastAccess     string
	lastIDToken    string
	tokenCalls     int
	lastEndSession url.Values
}

func newFakeOP(t *testing.T, b opBehaviour) *fakeOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	jwk := jose.JSONWebKey{Key: key, KeyID: "test-key", Algorithm: string(jose.RS256), Use: "sig"}
	newSigner := func(typ jose.ContentType) jose.Signer {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jwk}, (&jose.SignerOptions{}).WithType(typ))
		require.NoError(t, err)
		return s
	}
	op := &fakeOP{
		t:             t,
		b:             b,
		atSigner:      newSigner("at+jwt"),
		idSigner:      newSigner("JWT"),
		jwks:          jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk.Public()}},
		codes:         map[string]authRequest{},
		accessTokens:  map[string]string{},
		refreshTokens: map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authserver/oauth2/.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /authserver/oauth2/jwks", op.keys)
	mux.HandleFunc("GET /authserver/oauth2/authorize", op.authorize)
	mux.HandleFunc("POST /authserver/oauth2/token", op.token)
	mux.HandleFunc("POST /authserver/oauth2/introspection", op.introspection)
	mux.HandleFunc("GET /authserver/oauth2/userinfo", op.userinfo)
	mux.HandleFunc("GET /authserver/oauth2/logout", op.endSession)
	mux.HandleFunc("GET /resserver/protected-resources/", op.resource("UnknownUser"))
	mux.HandleFunc("GET /resserver/protected-resources-delegated/", op.resource("OAuth2"+testSubject))
	op.srv = httptest.NewTLSServer(op.unlessDown(mux))
	t.Cleanup(op.srv.Close)
	op.issuer = op.srv.URL + "/authserver/oauth2"
	return op
}

// setDown makes every request fail with 503, as if the provider had not
// started yet.
func (op *fakeOP) setDown(down bool) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.down = down
}

func (op *fakeOP) unlessDown(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		down := op.down
		op.mu.Unlock()
		if down {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (op *fakeOP) protectedURL() string { return op.srv.URL + "/resserver/protected-resources/" }
func (op *fakeOP) delegatedURL() string {
	return op.srv.URL + "/resserver/protected-resources-delegated/"
}

func (op *fakeOP) discovery(w http.ResponseWriter, r *http.Request) {
	doc := map[string]any{
		"issuer":                                         op.issuer,
		"authorization_endpoint":                         op.issuer + "/authorize",
		"token_endpoint":                                 op.issuer + "/token",
		"jwks_uri":                                       op.issuer + "/jwks",
		"userinfo_endpoint":                              op.issuer + "/userinfo",
		"introspection_endpoint":                         op.issuer + "/introspection",
		"response_types_supported":                       []string{"code"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic"},
		"scopes_supported":                               strings.Fields(DefaultScopes),
		"authorization_response_iss_parameter_supported": op.b.advertiseIss,
	}
	if !op.b.noEndSession {
		doc["end_session_endpoint"] = op.issuer + "/logout"
	}
	writeJSON(w, http.StatusOK, doc)
}

func (op *fakeOP) keys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, op.jwks)
}

// authorize skips login and consent: it redirects straight back.
func (op *fakeOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("client_id") != testClientID {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	resp := url.Values{"state": {q.Get("state")}}
	if op.b.forgeState != "" {
		resp.Set("state", op.b.forgeState)
	}
	switch {
	case op.b.omitIss:
	case op.b.iss != "":
		resp.Set("iss", op.b.iss)
	case op.b.advertiseIss:
		resp.Set("iss", op.issuer)
	}
	if op.b.errorCode != "" {
		resp.Set("error", op.b.errorCode)
		resp.Set("error_description", "The resource owner denied the request")
	} else {
		code := randomToken()
		resp.Set("code", code)
		op.mu.Lock()
		op.codes[code] = authRequest{
			nonce:       q.Get("nonce"),
			challenge:   q.Get("code_challenge"),
			redirectURI: q.Get("redirect_uri"),
			scope:       q.Get("scope"),
		}
		op.mu.Unlock()
	}
	op.mu.Lock()
	op.lastAuthorize = q
	op.mu.Unlock()
	back.RawQuery = resp.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// authenticated checks client_secret_basic with RFC 6749 §2.3.1 decoding.
func authenticated(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return false
	}
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	return err1 == nil && err2 == nil && id == testClientID && secret == testClientSecret
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	op.tokenCalls++
	op.mu.Unlock()
	if !authenticated(r) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	var nonce, scope string
	subject := testSubject
	switch r.PostFormValue("grant_type") {
	case "authorization_code":
		op.mu.Lock()
		req, ok := op.codes[r.PostFormValue("code")]
		delete(op.codes, r.PostFormValue("code"))
		op.mu.Unlock()
		if !ok || req.redirectURI != r.PostFormValue("redirect_uri") {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown code or redirect_uri mismatch")
			return
		}
		// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge.
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
			return
		}
		nonce, scope = req.nonce, req.scope
	case "refresh_token":
		op.mu.Lock()
		s, ok := op.refreshTokens[r.PostFormValue("refresh_token")]
		delete(op.refreshTokens, r.PostFormValue("refresh_token"))
		op.mu.Unlock()
		if !ok {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown refresh token")
			return
		}
		scope = s
		if op.b.refreshSubject != "" {
			subject = op.b.refreshSubject
		}
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	writeJSON(w, http.StatusOK, op.issue(nonce, scope, subject))
}

// issue mints the tokens of one token response.
func (op *fakeOP) issue(nonce, scope, subject string) map[string]any {
	now := time.Now()
	access := randomToken()
	if !op.b.opaqueAccessToken {
		access = op.sign(op.atSigner, map[string]any{
			"iss": op.issuer, "sub": testSubject, "aud": testClientID, "client_id": testClientID,
			"scope": scope, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": randomToken(),
		})
	}
	sum := sha256.Sum256([]byte(access))
	claims := map[string]any{
		"iss": op.issuer, "sub": subject, "aud": []string{testClientID},
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "auth_time": now.Unix(),
		// OIDC Core §3.1.3.6: the left half of the SHA-256 of the token.
		"at_hash": base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]),
		"azp":     testClientID,
		"name":    "Miguel de Cervantes Saavedra",
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if op.b.nonce != "" {
		claims["nonce"] = op.b.nonce
	}
	if op.b.atHash != "" {
		claims["at_hash"] = op.b.atHash
	}
	if op.b.azp != "" {
		claims["azp"] = op.b.azp
	}
	if op.b.omitAZP {
		delete(claims, "azp")
	}
	if op.b.aud != nil {
		claims["aud"] = op.b.aud
	}
	claims["iat"] = now.Add(op.b.iatOffset).Unix()
	if op.b.omitIAT {
		delete(claims, "iat")
	}
	idToken := op.sign(op.idSigner, claims)
	resp := map[string]any{
		"access_token": access,
		"token_type":   cmp.Or(op.b.tokenType, "bearer"),
		"expires_in":   3600,
		"scope":        scope,
		"id_token":     idToken,
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	op.accessTokens[access] = scope
	op.lastAccess, op.lastIDToken = access, idToken
	if !op.b.noRefreshToken && slices.Contains(strings.Fields(scope), "offline_access") {
		refresh := randomToken()
		op.refreshTokens[refresh] = scope
		resp["refresh_token"] = refresh
	}
	return resp
}

func (op *fakeOP) sign(s jose.Signer, claims map[string]any) string {
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	require.NoError(op.t, err)
	return raw
}

// issued returns the latest access and ID tokens.
func (op *fakeOP) issued() (access, idToken string) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.lastAccess, op.lastIDToken
}

// authorizeRequest returns the query of the latest authorization request.
func (op *fakeOP) authorizeRequest() url.Values {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.lastAuthorize
}

func (op *fakeOP) tokenRequests() int {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.tokenCalls
}

func (op *fakeOP) scopeOf(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	scope, ok := op.accessTokens[token]
	return scope, ok
}

func (op *fakeOP) introspection(w http.ResponseWriter, r *http.Request) {
	if !authenticated(r) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	op.mu.Lock()
	scope, ok := op.accessTokens[r.PostFormValue("token")]
	op.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"active": true, "scope": scope, "client_id": testClientID, "username": testSubject,
		"token_type": "bearer", "sub": testSubject, "aud": testClientID, "iss": op.issuer,
	})
}

func (op *fakeOP) userinfo(w http.ResponseWriter, r *http.Request) {
	if _, ok := op.scopeOf(r); !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": testSubject, "email": "miguel.cervantes@quiijote.es", "email_verified": false,
		"name": "Miguel de Cervantes Saavedra", "preferred_username": testSubject,
	})
}

func (op *fakeOP) endSession(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	op.lastEndSession = r.URL.Query()
	op.mu.Unlock()
	w.Write([]byte("signed out"))
}

// resource answers like the workshop's resource server (iris-workshop.md
// §6.2) for any access token this provider issued.
func (op *fakeOP) resource(user string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scope, ok := op.scopeOf(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{
			"message":       "OAuth 2.0 access token used to authorize resource server (RFC 6749). Access token validated using introspection endpoint (RFC 7662)",
			"tokenScope":    scope,
			"tokenUsername": testSubject,
			"irisUsername":  user,
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
