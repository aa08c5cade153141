package testop

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// AuthorizationRequest is what a client sent to the authorization
// endpoint, kept for the checks of what a client uses.
type AuthorizationRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	// Exchange is the token request that redeemed the code, once it came.
	Exchange *TokenRequest
}

// TokenRequest is what a client sent to redeem a code.
type TokenRequest struct {
	RedirectURI  string
	CodeVerifier string
	// PKCEVerified is true when a code_verifier matched the challenge.
	PKCEVerified bool
	// Tokens are the access and ID tokens issued in return.
	Tokens []string
}

// AuthorizationRequests returns the authorization requests so far, oldest
// first, each with its code exchange when one came.
func (op *OP) AuthorizationRequests() []AuthorizationRequest {
	op.mu.Lock()
	defer op.mu.Unlock()
	out := make([]AuthorizationRequest, len(op.seen))
	copy(out, op.seen)
	return out
}

func (op *OP) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("/authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("/userinfo", op.userinfo)
	mux.HandleFunc("POST /introspect", op.introspect)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is an RFC 6749 §5.2 error response.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="test-op"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func (op *OP) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                op.issuer,
		"authorization_endpoint":                op.issuer + "/authorize",
		"token_endpoint":                        op.issuer + "/token",
		"userinfo_endpoint":                     op.issuer + "/userinfo",
		"jwks_uri":                              op.issuer + "/jwks",
		"introspection_endpoint":                op.issuer + "/introspect",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "name", "email"},
		// RFC 9207 §3.
		"authorization_response_iss_parameter_supported": true,
	})
}

func (op *OP) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, op.keys.jwks())
}

// authorize signs the user in at once: the test OP has one user and no
// pages. An unknown client or a redirect URI that is not registered, byte
// for byte, gets an error page and no redirect (RFC 6749 §4.1.2.1).
func (op *OP) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed request", http.StatusBadRequest)
		return
	}
	q := r.Form
	c, ok := op.client(q.Get("client_id"))
	if !ok {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.Contains(c.RedirectURIs, redirect) {
		http.Error(w, "redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	req := AuthorizationRequest{
		ClientID:            c.ID,
		RedirectURI:         redirect,
		ResponseType:        q.Get("response_type"),
		Scope:               q.Get("scope"),
		State:               q.Get("state"),
		Nonce:               q.Get("nonce"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
	}
	op.mu.Lock()
	op.seen = append(op.seen, req)
	index := len(op.seen) - 1
	bend := op.bend
	op.mu.Unlock()

	params := url.Values{}
	if req.ResponseType != "code" {
		params.Set("error", "unsupported_response_type")
	} else {
		code := random(16)
		op.mu.Lock()
		op.codes[code] = &grant{req: req, clientID: c.ID, scope: req.Scope, sub: op.opts.Subject, bend: bend, seen: index}
		op.mu.Unlock()
		params.Set("code", code)
	}
	state := req.State
	if bend.AuthzState != "" {
		state = bend.AuthzState
	}
	if state != "" {
		params.Set("state", state)
	}
	switch {
	case bend.OmitAuthzIss:
	case bend.AuthzIss != "":
		params.Set("iss", bend.AuthzIss)
	default:
		params.Set("iss", op.issuer) // RFC 9207 §2
	}
	to, _ := url.Parse(redirect)
	query := to.Query()
	for k, v := range params {
		query[k] = v
	}
	to.RawQuery = query.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// authenticate checks client_secret_basic or client_secret_post, in
// constant time.
func (op *OP) authenticate(r *http.Request) (Client, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return Client{}, false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, ok := op.client(id)
	if !ok || c.Secret == "" || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, false
	}
	return c, true
}

func (op *OP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	c, ok := op.authenticate(r)
	if !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	code := r.PostForm.Get("code")
	op.mu.Lock()
	g, ok := op.codes[code]
	delete(op.codes, code) // single use (RFC 6749 §4.1.2)
	op.mu.Unlock()
	if !ok || g.clientID != c.ID {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	}
	ex := &TokenRequest{RedirectURI: r.PostForm.Get("redirect_uri"), CodeVerifier: r.PostForm.Get("code_verifier")}
	if ex.RedirectURI != g.req.RedirectURI {
		op.recordExchange(g, ex)
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	}
	// RFC 7636 §4.6.
	switch {
	case g.req.CodeChallenge == "" && ex.CodeVerifier != "":
		op.recordExchange(g, ex)
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier without code_challenge")
		return
	case g.req.CodeChallenge != "":
		want := ex.CodeVerifier
		if g.req.CodeChallengeMethod == "S256" {
			sum := sha256.Sum256([]byte(ex.CodeVerifier))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if ex.CodeVerifier == "" || subtle.ConstantTimeCompare([]byte(want), []byte(g.req.CodeChallenge)) != 1 {
			op.recordExchange(g, ex)
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match")
			return
		}
		ex.PKCEVerified = true
	}
	defer op.recordExchange(g, ex)

	at, err := op.issueAccessToken(g, []string{c.ID})
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	resp := map[string]any{
		"access_token": at,
		"token_type":   "Bearer",
		"expires_in":   int(op.opts.TokenLifetime / time.Second),
		"scope":        g.scope,
	}
	if slices.Contains(strings.Fields(g.scope), "openid") {
		idt, err := op.idToken(g, at)
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
			return
		}
		resp["id_token"] = idt
		ex.Tokens = append(ex.Tokens, idt)
	}
	ex.Tokens = append(ex.Tokens, at)
	writeJSON(w, http.StatusOK, resp)
}

func (op *OP) recordExchange(g *grant, ex *TokenRequest) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.seen[g.seen].Exchange = ex
}

// idToken is the ID token of a code exchange (OIDC Core §2, §3.1.3.6).
func (op *OP) idToken(g *grant, accessToken string) (string, error) {
	now := time.Now()
	claims := map[string]any{
		"iss":       op.issuer,
		"sub":       g.sub,
		"aud":       g.clientID,
		"azp":       g.clientID,
		"iat":       now.Unix(),
		"exp":       now.Add(op.opts.TokenLifetime).Unix(),
		"auth_time": now.Unix(),
		"at_hash":   halfHash(accessToken),
	}
	if g.req.Nonce != "" {
		claims["nonce"] = g.req.Nonce
	}
	return op.keys.sign(claims, "JWT", g.bend.IDToken)
}

func (op *OP) bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	if r.Method == http.MethodPost && r.ParseForm() == nil {
		return r.PostForm.Get("access_token")
	}
	return ""
}

// userinfo answers for a token the OP issued (OIDC Core §5.3).
func (op *OP) userinfo(w http.ResponseWriter, r *http.Request) {
	tok := op.bearer(r)
	op.mu.Lock()
	g, ok := op.tokens[tok]
	revoked := op.revoked[tok]
	op.mu.Unlock()
	if !ok || revoked {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	claims := map[string]any{}
	other := op.opts.Claims
	if g.bend.UserinfoClaims != nil {
		other = g.bend.UserinfoClaims
	}
	for k, v := range other {
		claims[k] = v
	}
	claims["sub"] = g.sub
	if g.bend.UserinfoSub != "" {
		claims["sub"] = g.bend.UserinfoSub
	}
	writeJSON(w, http.StatusOK, claims)
}

// introspect vouches for every access token the OP issued, bent or not,
// unless revoked: the resource server's own checks of the JWT are what a
// scenario tests, and "active" alone cannot excuse them (RFC 9068 §4). It
// answers registered clients only (RFC 7662 §2.1).
func (op *OP) introspect(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	if _, ok := op.authenticate(r); !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	tok := r.PostForm.Get("token")
	op.mu.Lock()
	g, ok := op.tokens[tok]
	revoked := op.revoked[tok]
	op.mu.Unlock()
	if !ok || revoked {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"active":     true,
		"token_type": "Bearer",
		"client_id":  g.clientID,
		"scope":      g.scope,
		"sub":        g.sub,
	})
}
