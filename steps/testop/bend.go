package testop

import "time"

// Key chooses the key a token is signed with.
type Key int

const (
	// KeyCurrent is the key the JWKS publishes as the signing key.
	KeyCurrent Key = iota
	// KeyForeign is a key the JWKS does not publish, under the current
	// key's kid: the signature does not verify (OIDF rp-id-token-bad-sig-rs256).
	KeyForeign
	// KeyUnknownKID is a key the JWKS does not publish, under a kid no key
	// of the JWKS has, even after a refetch.
	KeyUnknownKID
)

// TokenBend changes one JWT the test OP issues. The zero value changes
// nothing.
type TokenBend struct {
	Key Key
	// AlgNone sends the token unsigned, "alg": "none" (RFC 7519 §6).
	AlgNone bool
	// OmitKID leaves "kid" out of the header.
	OmitKID bool
	// Typ replaces the "typ" header ("at+jwt" for access tokens, "JWT" for
	// ID tokens); "-" removes it.
	Typ string
	// Set adds or replaces claims; Drop removes them (after Set).
	Set  map[string]any
	Drop []string
	// Exp, Nbf and Iat, when set, put the claim at now plus the offset.
	Exp, Nbf, Iat *time.Duration
}

// Bend is what a scenario asks the test OP to do wrong. The zero value is
// a correct OP.
type Bend struct {
	AccessToken TokenBend
	IDToken     TokenBend
	// UserinfoSub, when set, is the "sub" UserInfo answers instead of the
	// ID token's (OIDF rp-userinfo-bad-sub-claim).
	UserinfoSub string
	// UserinfoClaims, when set, replace the user's other claims in the
	// UserInfo response.
	UserinfoClaims map[string]any
	// AuthzIss, when set, replaces the "iss" of the authorization
	// response (RFC 9207); OmitAuthzIss leaves it out.
	AuthzIss     string
	OmitAuthzIss bool
	// AuthzState, when set, replaces the "state" of the authorization
	// response.
	AuthzState string
	// Revoked makes introspection answer "active": false (RFC 7662 §2.2).
	Revoked bool
}

// In returns a pointer to d, for the time offsets of TokenBend.
func In(d time.Duration) *time.Duration { return &d }
