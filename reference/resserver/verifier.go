package resserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// allowedAlgorithms are the JWS algorithms an access token may use: public-key
// signatures only. "none" would accept anything and HMAC would accept tokens
// forged with the public key as the secret (RFC 8725 §2.1, §3.1).
var allowedAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// maxTokenSize bounds the work a single request can cause.
const maxTokenSize = 16 << 10

// TokenInfo describes a validated access token.
type TokenInfo struct {
	Subject  string
	ClientID string
	// Scope is the space-separated scope the token grants.
	Scope string
	// Username is the resource owner's name from introspection; empty for
	// client-credentials tokens.
	Username string
	Issuer   string
	Audience []string
	Expiry   time.Time
	// JWT is true for a signed JWT (RFC 9068), false for an opaque token
	// validated by introspection alone.
	JWT bool
	// Claims are the JWT's claims, or the introspection response for an
	// opaque token.
	Claims map[string]any
}

// Scopes returns the scope as a list.
func (t *TokenInfo) Scopes() []string { return strings.Fields(t.Scope) }

// HasScope reports whether the token grants scope s (RFC 6749 §3.3: scopes
// are compared exactly).
func (t *TokenInfo) HasScope(s string) bool { return slices.Contains(t.Scopes(), s) }

// Verifier validates bearer access tokens for one resource server.
type Verifier struct {
	cfg           Config
	discovery     *discovery
	keys          *keySet
	introspection *introspection
}

// NewVerifier returns a Verifier; it contacts the issuer only on first use.
func NewVerifier(cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &discovery{
		issuer:           cfg.Issuer,
		client:           cfg.HTTPClient,
		now:              cfg.Now,
		jwksURL:          cfg.JWKSURL,
		introspectionURL: cfg.IntrospectionURL,
	}
	return &Verifier{
		cfg:       cfg,
		discovery: d,
		keys: &keySet{
			endpoints: func(ctx context.Context) (string, error) {
				u, _, err := d.endpoints(ctx)
				return u, err
			},
			client: cfg.HTTPClient,
			now:    cfg.Now,
		},
		introspection: &introspection{
			endpoint: func(ctx context.Context) (string, error) {
				_, u, err := d.endpoints(ctx)
				return u, err
			},
			client:       cfg.HTTPClient,
			clientID:     cfg.ClientID,
			clientSecret: cfg.ClientSecret,
		},
	}, nil
}

// RequiredScope is the scope VerifyAccessToken demands.
func (v *Verifier) RequiredScope() string { return v.cfg.RequiredScope }

// VerifyAccessToken validates raw and returns what it grants. A JWT must pass
// the RFC 9068 §4 checks; then, for every token, the introspection endpoint
// must report it active (RFC 7662 §2.2), so revocation takes effect at once.
//
// Refusals are *TokenError; failures to reach the authorization server wrap
// ErrUnavailable.
func (v *Verifier) VerifyAccessToken(ctx context.Context, raw string) (*TokenInfo, error) {
	if raw == "" {
		return nil, invalidToken("empty token", nil)
	}
	if len(raw) > maxTokenSize {
		return nil, invalidToken("token too long", nil)
	}
	if !isB64Token(raw) {
		return nil, invalidToken("malformed token", nil)
	}

	var info *TokenInfo
	if header, ok := jwsHeader(raw); ok {
		var err error
		if info, err = v.verifyJWT(ctx, raw, header); err != nil {
			return nil, err
		}
	}

	resp, err := v.introspection.introspect(ctx, raw)
	if err != nil {
		return nil, err
	}
	if active, _ := resp["active"].(bool); !active && !fault.On("rs-inactive-accepted") {
		return nil, invalidToken("token is not active", nil)
	}
	// RFC 7662 §2.2 token_type: refuse refresh tokens and other kinds a
	// permissive introspection endpoint may report active.
	if tt, ok := resp["token_type"].(string); ok {
		if !strings.EqualFold(tt, "bearer") && !strings.EqualFold(tt, "access_token") {
			return nil, invalidToken("not an access token", nil)
		}
	}
	if iss, ok := resp["iss"]; ok && iss != v.cfg.Issuer {
		return nil, invalidToken("unexpected issuer", nil)
	}
	username, _ := resp["username"].(string)

	if info == nil {
		if info, err = v.checkIntrospected(resp); err != nil {
			return nil, err
		}
	}
	info.Username = username

	// RFC 6750 §3.1: a valid token without the scope gets insufficient_scope.
	if !info.HasScope(v.cfg.RequiredScope) && !fault.On("rs-scope-unchecked") {
		return nil, &TokenError{
			Code:        CodeInsufficientScope,
			Description: "token lacks the required scope",
			Scope:       v.cfg.RequiredScope,
		}
	}
	return info, nil
}

// isB64Token reports whether s matches RFC 6750 §2.1
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// jwsHeader returns the decoded protected header when raw has the shape of
// a JWS compact serialization (RFC 7515 §7.1): three parts, the first a
// base64url JSON object. Anything else is treated as an opaque token.
func jwsHeader(raw string) (map[string]any, bool) {
	if strings.Count(raw, ".") != 2 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(raw[:strings.IndexByte(raw, '.')])
	if err != nil {
		return nil, false
	}
	var h map[string]any
	if json.Unmarshal(b, &h) != nil || h == nil {
		return nil, false
	}
	return h, true
}

// accessTokenClaims are the RFC 9068 §2.2 claims the resource server reads.
type accessTokenClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// verifyJWT applies RFC 9068 §4 to a JWT access token.
func (v *Verifier) verifyJWT(ctx context.Context, raw string, header map[string]any) (*TokenInfo, error) {
	alg, _ := header["alg"].(string)
	if !slices.Contains(allowedAlgorithms, jose.SignatureAlgorithm(alg)) {
		return nil, invalidToken("signature algorithm not accepted", nil)
	}
	tok, err := jwt.ParseSigned(raw, allowedAlgorithms)
	if err != nil {
		return nil, invalidToken("malformed JWT", err)
	}
	if len(tok.Headers) != 1 {
		return nil, invalidToken("malformed JWT", nil)
	}
	h := tok.Headers[0]

	keys, err := v.keys.verificationKeys(ctx, h)
	if errors.Is(err, errUnknownKey) {
		return nil, invalidToken("unknown signing key", err)
	}
	if err != nil {
		return nil, err
	}
	var payload json.RawMessage
	verified := false
	for _, key := range keys {
		if tok.Claims(key, &payload) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, invalidToken("signature verification failed", nil)
	}

	// RFC 9068 §4: explicit typing keeps ID tokens and other JWTs from
	// being replayed as access tokens (RFC 8725 §3.11).
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.ToLower(typ); t != "at+jwt" && t != "application/at+jwt" {
		return nil, invalidToken("token type is not at+jwt", nil)
	}

	var claims accessTokenClaims
	var all map[string]any
	if json.Unmarshal(payload, &claims) != nil || json.Unmarshal(payload, &all) != nil || all == nil {
		return nil, invalidToken("malformed claims", nil)
	}
	// RFC 9068 §2.2: exp, sub and client_id are required; iss and aud are
	// matched by ValidateWithLeeway below.
	switch {
	case claims.Expiry == nil:
		return nil, invalidToken("token has no exp", nil)
	case claims.Subject == "":
		return nil, invalidToken("token has no sub", nil)
	case claims.ClientID == "":
		return nil, invalidToken("token has no client_id", nil)
	}
	err = claims.Claims.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.cfg.Issuer,
		AnyAudience: jwt.Audience{v.cfg.Audience},
		Time:        v.cfg.Now(),
	}, v.cfg.Leeway)
	if err != nil {
		return nil, invalidToken(claimsErrorDescription(err), err)
	}
	return &TokenInfo{
		Subject:  claims.Subject,
		ClientID: claims.ClientID,
		Scope:    claims.Scope,
		Issuer:   claims.Issuer,
		Audience: claims.Audience,
		Expiry:   claims.Expiry.Time(),
		JWT:      true,
		Claims:   all,
	}, nil
}

func claimsErrorDescription(err error) string {
	switch {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return "unexpected issuer"
	case errors.Is(err, jwt.ErrInvalidAudience):
		return "audience does not include this resource server"
	case errors.Is(err, jwt.ErrExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrNotValidYet):
		return "token not yet valid"
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "token issued in the future"
	default:
		return "invalid claims"
	}
}

// checkIntrospected validates an opaque token from its introspection
// response (RFC 7662 §2.2), whose members are all optional except active.
func (v *Verifier) checkIntrospected(resp map[string]any) (*TokenInfo, error) {
	info := &TokenInfo{Issuer: v.cfg.Issuer, Claims: resp}
	info.Scope, _ = resp["scope"].(string)
	info.ClientID, _ = resp["client_id"].(string)
	info.Subject, _ = resp["sub"].(string)

	aud, err := audienceOf(resp["aud"])
	if err != nil {
		return nil, invalidToken("malformed introspection aud", err)
	}
	info.Audience = aud
	if len(aud) > 0 && !slices.Contains(aud, v.cfg.Audience) {
		return nil, invalidToken("audience does not include this resource server", nil)
	}

	now := v.cfg.Now()
	exp, err := numericDate(resp["exp"])
	if err != nil {
		return nil, invalidToken("malformed introspection exp", err)
	}
	if exp != nil {
		info.Expiry = exp.Time()
		if now.Add(-v.cfg.Leeway).After(info.Expiry) {
			return nil, invalidToken("token expired", nil)
		}
	}
	nbf, err := numericDate(resp["nbf"])
	if err != nil {
		return nil, invalidToken("malformed introspection nbf", err)
	}
	if nbf != nil && now.Add(v.cfg.Leeway).Before(nbf.Time()) {
		return nil, invalidToken("token not yet valid", nil)
	}
	return info, nil
}

// audienceOf reads an aud member, a string or an array of strings (RFC 7519
// §4.1.3). Absent and empty both mean no audience restriction.
func audienceOf(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var aud jwt.Audience
	if err := json.Unmarshal(b, &aud); err != nil {
		return nil, err
	}
	return aud, nil
}

// numericDate reads a NumericDate member (RFC 7519 §2); nil when absent.
func numericDate(v any) (*jwt.NumericDate, error) {
	if v == nil {
		return nil, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, errors.New("not a number")
	}
	var d jwt.NumericDate
	if err := d.UnmarshalJSON([]byte(n.String())); err != nil {
		return nil, err
	}
	return &d, nil
}
