package steps

import (
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/report"
)

// These tests hold the suite to the spec's words: each runs the scenarios
// of one class of verdict against a fake issuer that behaves in a way the
// spec allows and expects no MUST failure, and, where it can, against one
// that breaks the rule and expects the failure.

const (
	passed        = report.StatusPassed
	failed        = report.StatusFailed
	warning       = report.StatusWarning
	notApplicable = report.StatusNotApplicable
)

// TestVerdictPolicyIsNotViolation: RFC 6749 §3.3 lets a server grant,
// narrow or refuse a scope it does not know; only a differing granted
// scope that the response does not state is a violation. scopes_supported
// need not list every scope (OIDC Discovery §3).
func TestVerdictPolicyIsNotViolation(t *testing.T) {
	const unknownScope = "An unknown scope is refused, or a differing granted scope is stated"
	const openidListed = "Listed scopes include openid"
	for _, tt := range []struct {
		name string
		b    behaviour
		want map[string]report.Status
	}{
		{"granted as requested", behaviour{scope: "grant", meta: map[string]any{"scopes_supported": []string{"profile"}}},
			map[string]report.Status{unknownScope: passed, openidListed: warning}},
		{"narrowed and stated", behaviour{scope: "narrow-stated"}, map[string]report.Status{unknownScope: passed, openidListed: passed}},
		{"refused", behaviour{scope: "refuse"}, map[string]report.Status{unknownScope: passed}},
		{"narrowed silently", behaviour{scope: "narrow-silent"}, map[string]report.Status{unknownScope: failed}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := fakeTarget(t, tt.b, "https", nil)
			expectStatus(t, runScenarios(t, cfg, unknownScope, openidListed), tt.want)
		})
	}
}

// TestVerdictTokenErrors: RFC 6749 §5.2 answers a failed HTTP Basic
// authentication with 401 and a Basic challenge, whatever the client
// registered; RFC 7009 §2.2.1 lets a provider refuse to revoke access
// tokens with unsupported_token_type.
func TestVerdictTokenErrors(t *testing.T) {
	const wrongSecret = "A wrong client secret is refused with a Basic challenge"
	const revokeAccess = "Revoking an access token answers 200, or unsupported_token_type"
	_, cfg := fakeTarget(t, behaviour{revokesNoAccessTokens: true}, "https", nil)
	expectStatus(t, runScenarios(t, cfg, wrongSecret, revokeAccess), map[string]report.Status{
		wrongSecret: passed, revokeAccess: passed,
	})
}

// TestVerdictForeignRevocation: RFC 7009 §2.1 refuses, with an error, a
// token issued to another client; answering 200 while revoking nothing
// tells the client a revocation happened that did not.
func TestVerdictForeignRevocation(t *testing.T) {
	const foreign = "A client cannot revoke another client's token"
	for _, tt := range []struct {
		name string
		b    behaviour
		want report.Status
	}{
		{"refused", behaviour{}, passed},
		{"200 and nothing revoked", behaviour{foreignRevocationOK: true}, failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := fakeTarget(t, tt.b, "https", nil)
			expectStatus(t, runScenarios(t, cfg, foreign), map[string]report.Status{foreign: tt.want})
		})
	}
}

// TestVerdictPreconditionsFromMetadata: what the suite sends must be what
// the issuer advertises. Unsigned request objects need none among the
// request object algorithms, request_uri values need no registration,
// RFC 8414 metadata is optional beside OpenID discovery (RFC 8414 §5),
// and a PKCE method accepted though unlisted is a discovery inaccuracy.
func TestVerdictPreconditionsFromMetadata(t *testing.T) {
	needChromium(t)
	const (
		unsigned    = "An unsigned request object is processed or refused as unsupported"
		byReference = "A request_uri is processed or refused as unsupported"
		wins        = "The redirect_uri of a request object wins over the query's"
		rfc8414     = "The RFC 8414 metadata at the path-inserted location names the same issuer"
		plain       = "The plain method, which discovery does not list, is refused"
	)
	_, cfg := fakeTarget(t, behaviour{requestObjectErrorPage: true, meta: map[string]any{
		"request_parameter_supported":                 true,
		"request_object_signing_alg_values_supported": []string{"RS256"},
		"require_request_uri_registration":            true,
	}}, "https", nil)
	expectStatus(t, runScenarios(t, cfg, unsigned, byReference, wins, rfc8414, plain), map[string]report.Status{
		unsigned: notApplicable, byReference: notApplicable, wins: notApplicable, rfc8414: notApplicable, plain: warning,
	})

	t.Run("RFC 8414 metadata naming another issuer", func(t *testing.T) {
		_, cfg := fakeTarget(t, behaviour{rfc8414Issuer: "https://elsewhere.example"}, "https", nil)
		expectStatus(t, runScenarios(t, cfg, rfc8414), map[string]report.Status{rfc8414: failed})
	})
}

// TestVerdictShouldIsWarning: a SHOULD that is not met is a warning. RFC
// 6750 §3 requires the Bearer challenge, §3.1 only recommends its error
// attribute; OIDC Core §3.1.2.1 says a server SHOULD prompt for consent
// on prompt=consent; §5.5.1 lets a requested claim, even an essential
// one, go unreturned.
func TestVerdictShouldIsWarning(t *testing.T) {
	needChromium(t)
	const (
		challenge  = "UserInfo refuses an invalid token with a Bearer challenge"
		errorCode  = "UserInfo refuses an invalid token with 401 and invalid_token"
		noToken    = "UserInfo without a token asks for one"
		consent    = "prompt=consent shows the consent page or returns an error"
		essentialC = "An essential claim asked for with the claims parameter is returned"
	)
	_, cfg := fakeTarget(t, behaviour{sso: true, promptConsentSkipped: true, userinfoChallenge: `Bearer realm="fake"`}, "https", nil)
	expectStatus(t, runScenarios(t, cfg, challenge, errorCode, noToken, consent, essentialC), map[string]report.Status{
		challenge: passed, noToken: passed, errorCode: warning, consent: warning, essentialC: warning,
	})

	t.Run("no challenge at all", func(t *testing.T) {
		_, cfg := fakeTarget(t, behaviour{}, "https", nil)
		expectStatus(t, runScenarios(t, cfg, challenge, noToken), map[string]report.Status{challenge: failed, noToken: failed})
	})
}

// TestVerdictSessionIsObserved: prompt=none and id_token_hint scenarios
// need a single-sign-on session, which OIDC Core does not require: without
// one they are not applicable; with one, prompt=none must still work.
func TestVerdictSessionIsObserved(t *testing.T) {
	needChromium(t)
	const (
		promptNone = "prompt=none with a session returns a code without any page"
		hint       = "prompt=none with the id_token_hint of the session's user returns a code"
	)
	_, cfg := fakeTarget(t, behaviour{}, "https", nil)
	expectStatus(t, runScenarios(t, cfg, promptNone, hint), map[string]report.Status{promptNone: notApplicable, hint: notApplicable})

	t.Run("a session that prompt=none ignores", func(t *testing.T) {
		_, cfg := fakeTarget(t, behaviour{sso: true, promptNoneRefused: true}, "https", nil)
		expectStatus(t, runScenarios(t, cfg, promptNone), map[string]report.Status{promptNone: failed})
	})
}

// TestVerdictRefusalAtEitherPlace: a request may be refused at the
// authorization endpoint or at the token endpoint (a public client
// without PKCE), and on the error page rather than by a redirect (a
// request object).
func TestVerdictRefusalAtEitherPlace(t *testing.T) {
	needChromium(t)
	const (
		noPKCE = "A public client without PKCE is refused"
		wins   = "The redirect_uri of a request object wins over the query's"
		object = "An unsigned request object is processed or refused as unsupported"
	)
	_, cfg := fakeTarget(t, behaviour{pkceAtToken: true, requestObjectErrorPage: true, meta: map[string]any{
		"request_parameter_supported":                 true,
		"request_object_signing_alg_values_supported": []string{"none", "RS256"},
	}}, "https", nil)
	expectStatus(t, runScenarios(t, cfg, noPKCE, wins, object), map[string]report.Status{noPKCE: passed, wins: passed, object: passed})
}

// TestVerdictClaimsTheUserHas: OIDC Core §5.4 releases the claims a user
// has; scopes whose claims the configured user lacks are not applicable,
// and a configured claim that is not returned is still a warning.
func TestVerdictClaimsTheUserHas(t *testing.T) {
	needChromium(t)
	const (
		address = "The address scope releases the user's address"
		phone   = "The phone scope releases the user's phone number"
		profile = "The profile scope releases the user's name"
	)
	claims := map[string]any{"name": "Alice Liddell", "phone_number": "+1 555 0100"}
	_, cfg := fakeTarget(t, behaviour{claims: map[string]any{"name": "Alice Liddell"}}, "https", claims)
	expectStatus(t, runScenarios(t, cfg, address, phone, profile), map[string]report.Status{
		address: notApplicable, profile: passed, phone: warning,
	})
}

// TestVerdictExemptionsWhereTheirSpecApplies: RFC 8252 §7.3's loopback
// port exemption is for native clients; a web client's redirect URI must
// match exactly even on loopback. RFC 9700 §4.14.2 requires a public
// client's (bearer) refresh tokens to be rotated.
func TestVerdictExemptionsWhereTheirSpecApplies(t *testing.T) {
	needChromium(t)
	const (
		port     = `An unregistered redirect URI ("another port") gets an error page, never a redirect`
		rotation = "A public client's refresh token is rotated and the previous one refused"
	)
	_, cfg := fakeTarget(t, behaviour{rotate: true}, "http", nil)
	expectStatus(t, runScenarios(t, cfg, `An unregistered redirect URI (<change>) gets an error page, never a redirect`, rotation), map[string]report.Status{
		port: passed, rotation: passed,
	})

	t.Run("any loopback port, no rotation", func(t *testing.T) {
		_, cfg := fakeTarget(t, behaviour{loopbackAnyPort: true}, "http", nil)
		expectStatus(t, runScenarios(t, cfg, `An unregistered redirect URI (<change>) gets an error page, never a redirect`, rotation), map[string]report.Status{
			port: failed, rotation: failed,
		})
	})
}

// TestVerdictDenyWithoutDenyButton: RFC 6749 §4.1.2.1 and OIDC Core
// §3.1.2.1 say what to answer when the user denies, not that a provider
// must offer a way to; a consent page without a deny button makes the
// scenario not applicable.
func TestVerdictDenyWithoutDenyButton(t *testing.T) {
	needChromium(t)
	const deny = "Denied consent returns access_denied with the state"
	_, cfg := fakeTarget(t, behaviour{glewlwydPages: true}, "https", nil)
	expectStatus(t, runScenarios(t, cfg, deny), map[string]report.Status{deny: notApplicable})
}
