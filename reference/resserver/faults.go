package resserver

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// FaultsEnv names the faults switched on (fault.Env), for the tests
// outside reference/ that switch them.
const FaultsEnv = fault.Env

// Faults are deliberate bugs in the token checks, switched on by name in
// OAUTHTRIO_FAULTS (package fault), so that the resource-server checks of
// the conformance suite can be shown to catch each of them.
const (
	FaultAnySignature     = "resserver-any-signature"     // the signature is not verified
	FaultAlgNone          = "resserver-alg-none"          // an unsigned token (alg none) is accepted
	FaultUnknownKID       = "resserver-unknown-kid"       // a kid the JWKS lacks skips verification
	FaultAnyType          = "resserver-any-typ"           // typ is not checked (RFC 9068 §4)
	FaultAnyIssuer        = "resserver-any-issuer"        // iss is not checked
	FaultAnyAudience      = "resserver-any-audience"      // aud is not checked
	FaultOptionalAudience = "resserver-optional-audience" // a token without aud passes
	FaultOwnAudience      = "resserver-wrong-audience"    // aud is compared with the issuer, refusing valid tokens
	FaultExpired          = "resserver-expired"           // exp is not checked
	FaultNotYetValid      = "resserver-not-yet-valid"     // nbf is not checked
	FaultAnyScope         = "rs-scope-unchecked"          // the required scope is not checked
	FaultIgnoreInactive   = "rs-inactive-accepted"        // introspection's "active": false is ignored
	FaultNoChallenge      = "rs-no-challenge"             // refusals carry no WWW-Authenticate
	FaultStatus400        = "resserver-status-400"        // invalid tokens get 400 invalid_request
)

// unverifiedPayload decodes a compact JWS payload without any signature
// check: what the faults above do, never the server otherwise.
func unverifiedPayload(raw string) (json.RawMessage, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !json.Valid(b) {
		return nil, false
	}
	return b, true
}
