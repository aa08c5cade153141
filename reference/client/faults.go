package client

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// FaultsEnv names the faults switched on (fault.Env), for the tests
// outside reference/ that switch them.
const FaultsEnv = fault.Env

// Faults are deliberate bugs in the client's checks, switched on by name
// in OAUTHTRIO_FAULTS (package fault), so that the client checks of the
// conformance suite can be shown to catch each of them.
const (
	FaultAnySignature    = "client-any-signature"     // the ID token's signature is not verified
	FaultAlgNone         = "client-alg-none"          // an unsigned ID token (alg none) is taken as valid
	FaultStaticJWKS      = "client-static-jwks"       // the JWKS is fetched once and never again
	FaultAnyIssuer       = "client-any-issuer"        // the ID token's iss is not checked
	FaultAnyAudience     = "client-any-audience"      // the ID token's aud is not checked
	FaultExpired         = "client-expired"           // the ID token's exp is not checked
	FaultAnyNonce        = "client-any-nonce"         // the ID token's nonce is not checked
	FaultAnyIAT          = "client-any-iat"           // a missing or future iat passes
	FaultAnySub          = "client-any-sub"           // an ID token without sub passes
	FaultOptionalAZP     = "client-optional-azp"      // several audiences need no azp
	FaultAnyATHash       = "client-any-at-hash"       // at_hash is not checked
	FaultUserinfoAnySub  = "client-userinfo-any-sub"  // UserInfo about another sub is used
	FaultAnyIssParameter = "client-any-iss-parameter" // the authorization response's iss is not checked
	FaultAnyState        = "client-any-state"         // the authorization response's state is not checked
	FaultNoPKCE          = "client-no-pkce"           // no PKCE
	FaultPlainPKCE       = "client-plain-pkce"        // PKCE with the plain method
	FaultNoNonce         = "client-no-nonce"          // no nonce
	FaultNoState         = "client-no-state"          // no state
	FaultRedirectURI     = "client-redirect-uri"      // the redirect URI is sent with a query the registration lacks
	FaultTokenInURL      = "client-token-in-url"      // after the login the page is loaded with the access token in its URL
)

// idTokenVerifier is the verifier of d for the ID token raw, weakened as
// the switched-on faults say, and the token to give it.
func (a *App) idTokenVerifier(ctx context.Context, d *discovery, raw string) (*oidc.IDTokenVerifier, string, error) {
	skipSignature := fault.On(FaultAnySignature)
	if fault.On(FaultAlgNone) {
		// go-jose cannot even parse alg none; the fault hands go-oidc the
		// same claims under a header it parses, unverified.
		if signed, ok := unsignedAsRS256(raw); ok {
			raw, skipSignature = signed, true
		}
	}
	cfg := oidc.Config{
		ClientID:                   a.cfg.ClientID,
		InsecureSkipSignatureCheck: skipSignature,
		SkipIssuerCheck:            fault.On(FaultAnyIssuer),
		SkipClientIDCheck:          fault.On(FaultAnyAudience),
		SkipExpiryCheck:            fault.On(FaultExpired),
	}
	static := fault.On(FaultStaticJWKS)
	if !cfg.InsecureSkipSignatureCheck && !cfg.SkipIssuerCheck && !cfg.SkipClientIDCheck && !cfg.SkipExpiryCheck && !static {
		return d.verifier, raw, nil
	}
	if static {
		keys, err := d.staticKeys.get(ctx, a, d)
		if err != nil {
			return nil, "", err
		}
		return oidc.NewVerifier(a.cfg.Issuer, keys, &cfg), raw, nil
	}
	return d.provider.VerifierContext(a.clientContext(ctx), &cfg), raw, nil
}

// unsignedAsRS256 rewrites an unsigned JWT (alg none) with an RS256 header
// and a dummy signature, for FaultAlgNone only.
func unsignedAsRS256(raw string) (string, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", false
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	var header struct {
		Alg string `json:"alg"`
	}
	if err != nil || json.Unmarshal(h, &header) != nil || header.Alg != "none" {
		return "", false
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + parts[1] + "." + enc.EncodeToString([]byte("unsigned")), true
}

// staticKeys is the issuer's JWKS as first fetched, for FaultStaticJWKS.
type staticKeys struct {
	mu   sync.Mutex
	keys *oidc.StaticKeySet
}

func (s *staticKeys) get(ctx context.Context, a *App, d *discovery) (*oidc.StaticKeySet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys != nil {
		return s.keys, nil
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := d.provider.Claims(&meta); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.JWKSURI, nil)
	if err != nil {
		return nil, err
	}
	status, body, err := a.fetch(req)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("jwks: status %d: %v", status, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	s.keys = &oidc.StaticKeySet{}
	for _, k := range set.Keys {
		s.keys.PublicKeys = append(s.keys.PublicKeys, crypto.PublicKey(k.Key))
	}
	return s.keys, nil
}
