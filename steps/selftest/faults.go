package selftest

// Level is the strength of the rule a fault breaks. A MUST fault counts as
// caught only by a failed scenario, a SHOULD fault only by a warning.
type Level string

// The levels of RFC 2119 the suite tells apart.
const (
	MUST   Level = "MUST"
	SHOULD Level = "SHOULD"
)

// Fault is one deliberate bug in the reference, switched on by its name
// through $OAUTHTRIO_FAULTS (reference/internal/fault). Every fault can be
// seen from outside, with plain HTTP, a browser or a TLS client.
type Fault struct {
	Name        string `json:"name"`
	Area        string `json:"area"`
	Description string `json:"description"`
	// Spec is the section whose rule the fault breaks, as the features
	// tag it.
	Spec  string `json:"spec"`
	Level Level  `json:"level"`
	// Source is a CVE or a public bug report of an OAuth server with the
	// same bug, when there is one.
	Source string `json:"source,omitempty"`
}

// Faults is the catalogue of deliberate bugs. TestFaultsMatchTheSource
// keeps it and the fault.On calls in reference/ equal.
var Faults = []Fault{
	// Authorization endpoint.
	{"authz-repeated-params", "authorization endpoint", "repeated request parameters are not refused", "RFC6749-3.1", MUST, ""},
	{"authz-response-type-default", "authorization endpoint", "a missing response_type defaults to code instead of being refused", "RFC6749-4.1.1", MUST, ""},
	{"authz-prompt-none-login-page", "authorization endpoint", "prompt=none without a session shows the login page instead of login_required", "OIDCC-3.1.2.6", MUST, ""},
	{"authz-prompt-login-ignored", "authorization endpoint", "prompt=login reuses the session instead of asking for the password", "OIDCC-3.1.2.1", SHOULD, ""},
	{"authz-max-age-minutes", "authorization endpoint", "max_age is read as minutes, so an old session is not re-authenticated", "OIDCC-3.1.2.1", MUST, ""},
	{"authz-state-dropped", "authorization endpoint", "the authorization response leaves out state", "RFC6749-4.1.2", MUST, ""},
	{"authz-iss-missing", "authorization endpoint", "the authorization response leaves out iss although discovery advertises it", "RFC9207-2", MUST, "mix-up attack (RFC 9207 §1)"},
	{"authz-iss-wrong", "authorization endpoint", "the authorization response's iss is the host, not the issuer identifier", "RFC9207-2", MUST, "mix-up attack (RFC 9207 §1)"},
	{"authz-error-state-dropped", "authorization endpoint", "error redirects leave out state", "RFC6749-4.1.2.1", MUST, ""},
	{"authz-error-iss-missing", "authorization endpoint", "error redirects leave out iss", "RFC9207-2", MUST, ""},

	// Redirect URI matching.
	{"authz-loopback-any-scheme", "redirect URI", "an http loopback redirect URI matches a registered https one on any port", "RFC9700-4.1.3", MUST, "CVE-2019-3778 (Spring Security OAuth: a manipulated redirect_uri accepted)"},
	{"authz-error-redirect-unregistered", "redirect URI", "an error for an unregistered redirect URI is redirected to it (open redirector)", "RFC6749-3.1.2.4", MUST, "IRIS OAuth2 library, old source (README: What the suite reports about IRIS)"},
	{"code-redirect-uri-unbound", "redirect URI", "the stored code forgets its redirect_uri, so the token endpoint cannot compare it", "RFC6749-4.1.3", MUST, ""},

	// Login and consent forms.
	{"consent-skipped", "login and consent", "the consent page is never shown: every client is approved silently", "RFC6749-10.12", MUST, ""},
	{"consent-deny-ignored", "login and consent", "denying consent approves the request", "RFC6749-4.1.2.1", MUST, ""},
	{"consent-prompt-none-ignored", "login and consent", "prompt=none without consent shows the consent page instead of answering consent_required", "OIDCC-3.1.2.6", MUST, ""},
	{"login-csrf-unchecked", "login and consent", "the login and consent forms accept posts without their CSRF token or from another browser", "RFC6749-10.12", MUST, ""},
	{"login-any-password", "login and consent", "a known user logs in with any password", "RFC6749-4.1", MUST, ""},
	{"page-framable", "login and consent", "the login and consent pages may be framed (no frame-ancestors, no X-Frame-Options)", "RFC9700-4.16", SHOULD, ""},

	// Token endpoint, authorization code grant.
	{"code-reuse-allowed", "token endpoint: code", "a code is not invalidated after its exchange and can be used again", "RFC6749-4.1.2", MUST, ""},
	{"code-reuse-no-revoke", "token endpoint: code", "a reused code is refused but the tokens issued for it stay valid", "RFC9700-4.2.4", SHOULD, ""},
	{"code-lifetime-day", "token endpoint: code", "codes live 24 hours", "RFC6749-10.5", MUST, ""},
	{"token-expired-code-invalid-request", "token endpoint: code", "an expired code is answered invalid_request instead of invalid_grant", "RFC6749-5.2", MUST, ""},
	{"token-no-store-missing", "token endpoint: code", "token responses lack Cache-Control: no-store", "RFC6749-5.1", MUST, ""},
	{"token-expires-in-null", "token endpoint: code", "the token response's expires_in is null", "RFC6749-5.1", SHOULD, ""},
	{"token-unsupported-grant-invalid-request", "token endpoint: code", "an unknown grant_type is answered invalid_request instead of unsupported_grant_type", "RFC6749-5.2", MUST, ""},
	{"error-text-plain", "token endpoint: code", "JSON error responses are labelled text/plain", "RFC6749-5.2", MUST, ""},

	// Token endpoint, client credentials grant.
	{"cc-audience-dropped", "token endpoint: client credentials", "client-credentials tokens carry no aud", "RFC9068-2.2", MUST, ""},
	{"cc-client-id-claim-missing", "token endpoint: client credentials", "client-credentials JWT access tokens lack client_id", "RFC9068-2.2", MUST, ""},
	{"cc-typ-jwt", "token endpoint: client credentials", "client-credentials JWT access tokens are typed JWT, not at+jwt", "RFC9068-2.1", MUST, ""},

	// Token endpoint, refresh grant.
	{"refresh-not-rotated", "token endpoint: refresh", "a used refresh token stays active (no rotation for public clients)", "RFC9700-4.14.2", MUST, ""},
	{"refresh-scope-widening", "token endpoint: refresh", "a refresh request may ask for scopes never granted", "RFC6749-6", MUST, ""},

	// Client authentication.
	{"client-secret-unchecked", "client authentication", "the client secret is not compared: any secret authenticates", "RFC6749-2.3.1", MUST, ""},
	{"token-401-no-challenge", "client authentication", "a failed client authentication is a 401 without WWW-Authenticate", "RFC6749-5.2", MUST, ""},
	{"token-invalid-client-400", "client authentication", "a failed Basic client authentication is answered 400 instead of 401", "RFC6749-5.2", MUST, ""},

	// PKCE.
	{"pkce-challenge-not-stored", "PKCE", "the code_challenge is not stored, so a code is redeemed without its verifier (PKCE downgrade)", "RFC7636-4.6", MUST, "RFC 9700 §4.8; kanidm/kanidm#1097, thephpleague/oauth2-server#1323"},
	{"pkce-plain-accepted", "PKCE", "code_challenge_method=plain is accepted although discovery lists only S256", "RFC9700-2.1.1", SHOULD, ""},
	{"pkce-public-client-optional", "PKCE", "a public client may leave out PKCE", "RFC9700-2.1.1", SHOULD, ""},

	// Scopes.
	{"userinfo-email-not-released", "scopes", "the email scope releases no email claim", "OIDCC-5.4", SHOULD, ""},
	{"userinfo-profile-not-released", "scopes", "the profile scope releases no profile claim", "OIDCC-5.4", SHOULD, ""},

	// ID token.
	{"idt-nonce-dropped", "ID token", "the ID token leaves out the request's nonce", "OIDCC-3.1.3.7", MUST, ""},
	{"idt-iss-trailing-slash", "ID token", "the ID token's iss has a trailing slash the issuer lacks", "OIDCC-3.1.3.7", MUST, ""},
	{"idt-azp-wrong", "ID token", "the ID token's azp is the issuer instead of the client", "OIDCC-2", MUST, ""},
	{"idt-expired-at-issue", "ID token", "ID tokens expire a minute before they are issued (lifetime sign slip)", "OIDCC-3.1.3.7", MUST, ""},

	// UserInfo.
	{"userinfo-post-refused", "UserInfo", "UserInfo refuses POST", "OIDCC-5.3.1", MUST, ""},
	{"userinfo-refresh-token-accepted", "UserInfo", "UserInfo accepts a refresh token as an access token", "OIDCC-5.3.3", MUST, ""},
	{"userinfo-sub-missing", "UserInfo", "the UserInfo response lacks sub", "OIDCC-5.3.2", MUST, ""},
	{"bearer-no-challenge", "UserInfo", "UserInfo's 401 for an invalid token has no WWW-Authenticate challenge", "RFC6750-3", MUST, ""},
	{"userinfo-invalid-token-400", "UserInfo", "UserInfo answers an invalid token with 400 instead of 401", "RFC6750-3.1", SHOULD, ""},

	// Introspection.
	{"introspect-no-auth", "introspection", "introspection answers callers that do not authenticate", "RFC7662-2.1", MUST, ""},
	{"introspect-unknown-error", "introspection", "an unknown token is an error instead of active: false", "RFC7662-2.2", MUST, ""},

	// Revocation.
	{"revoke-unknown-400", "revocation", "revoking an unknown token is an error instead of 200", "RFC7009-2.2", MUST, ""},
	{"revoke-foreign-token-200", "revocation", "revoking another client's token answers 200 (and revokes nothing)", "RFC7009-2.1", MUST, ""},
	{"revoke-access-wrong-column", "revocation", "access token revocation deletes by the wrong column and revokes nothing", "RFC7009-2", SHOULD, ""},
	{"revoke-refresh-wrong-column", "revocation", "refresh token revocation updates by the wrong column and revokes nothing", "RFC7009-2.1", MUST, ""},

	// Discovery and JWKS.
	{"disc-issuer-trailing-slash", "discovery and JWKS", "the discovery document's issuer has a trailing slash", "OIDCD-4.3", MUST, ""},
	{"disc-jwks-uri-missing", "discovery and JWKS", "the discovery document lacks jwks_uri", "OIDCD-3", MUST, ""},
	{"disc-userinfo-http", "discovery and JWKS", "discovery names an http UserInfo endpoint", "OIDCD-3", MUST, ""},
	{"disc-rs256-missing", "discovery and JWKS", "id_token_signing_alg_values_supported lacks RS256", "OIDCD-3", MUST, ""},
	{"disc-openid-scope-missing", "discovery and JWKS", "scopes_supported lacks openid", "OIDCD-3", SHOULD, ""},
	{"jwks-private-key", "discovery and JWKS", "the JWK Set publishes the private signing key", "OIDCD-3", MUST, ""},
	{"jwks-duplicate-key", "discovery and JWKS", "the JWK Set lists its key twice under one kid", "OIDCC-10.1", SHOULD, ""},

	// Registration.
	{"reg-fragment-accepted", "registration", "a redirect URI with a fragment is registered", "RFC7591-2", MUST, ""},
	{"reg-secret-mismatch", "registration", "the stored hash is of another secret than the one returned", "RFC7591-3.2.1", MUST, ""},
	{"reg-auth-method-dropped", "registration", "a client_secret_post registration is stored as client_secret_basic", "RFC7591-2", MUST, ""},
	{"reg-status-200", "registration", "a successful registration answers 200 instead of 201", "RFC7591-3.2.1", MUST, ""},

	// RP-initiated logout.
	{"logout-unregistered-redirect", "logout", "logout redirects to any post_logout_redirect_uri", "OIDCRPL-3", MUST, ""},
	{"logout-state-dropped", "logout", "logout does not return state to the post-logout URI", "OIDCRPL-2", MUST, ""},
	{"logout-session-kept", "logout", "logout clears the session cookie but leaves the login session it named alive", "OIDCRPL-2", SHOULD, ""},
	{"logout-redirect-unconfirmed", "logout", "logout without an id_token_hint redirects without asking the user", "OIDCRPL-3", MUST, ""},
	{"logout-hint-unverified", "logout", "an id_token_hint is believed without checking its signature", "OIDCRPL-2", MUST, ""},

	// TLS front.
	{"tls-legacy-versions", "TLS front", "TLS 1.0 and 1.1 are accepted", "RFC8996-2", MUST, ""},
	{"tls-cbc-suites", "TLS front", "TLS 1.2 offers CBC cipher suites", "BCP195-4.2", SHOULD, ""},
	{"tls-hsts-missing", "TLS front", "no Strict-Transport-Security header", "BCP195-3.2", SHOULD, ""},

	// Resource server.
	{"rs-inactive-accepted", "resource server", "the resource server accepts a token introspection calls inactive", "RFC7009-2", SHOULD, ""},
	{"rs-scope-unchecked", "resource server", "the resource server does not check the required scope", "RFC6750-3", MUST, ""},
	{"rs-no-challenge", "resource server", "the resource server's refusals lack WWW-Authenticate", "RFC6750-3", MUST, ""},
	{"rs-challenge-error-without-token", "resource server", "the challenge to a request without a token carries an error code", "RFC6750-3.1", SHOULD, ""},
}

// OnePerArea is the first fault of each area, in catalogue order: a sample
// that reaches every part of the reference in a run of a few minutes.
func OnePerArea(faults []Fault) []Fault {
	var sample []Fault
	seen := map[string]bool{}
	for _, f := range faults {
		if !seen[f.Area] {
			seen[f.Area] = true
			sample = append(sample, f)
		}
	}
	return sample
}
