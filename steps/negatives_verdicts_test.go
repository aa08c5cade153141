package steps

import (
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/report"
)

// TestVerdictTokenEndpointRefusals: a token request that carries its
// client credentials in the URI (RFC 6749 §2.3.1), names a confidential
// client without authenticating it (§3.2.1), or comes from a public client
// by the client credentials grant (§4.4) must be refused; so must the
// password grant (RFC 9700 §2.4).
func TestVerdictTokenEndpointRefusals(t *testing.T) {
	const (
		inURI     = "Client credentials in the request URI are refused"
		anonymous = "A token request without client authentication is refused"
		publicCC  = "A public client cannot use the client credentials grant"
		password  = "The resource owner password credentials grant is refused"
	)
	for _, tt := range []struct {
		name string
		b    behaviour
		want map[string]report.Status
	}{
		{"refused", behaviour{}, map[string]report.Status{inURI: passed, anonymous: passed, publicCC: passed, password: passed}},
		{"accepted", behaviour{credentialsInQuery: true, publicClientCredentials: true},
			map[string]report.Status{inURI: failed, anonymous: passed, publicCC: failed, password: passed}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := fakeTarget(t, tt.b, "https", nil)
			expectStatus(t, runScenarios(t, cfg, inURI, anonymous, publicCC, password), tt.want)
		})
	}
}

// TestVerdictFormCSRF: RFC 6749 §10.12, login and consent forms that
// another site can send for the user's browser fail; forms bound to the
// browser that was shown them pass.
func TestVerdictFormCSRF(t *testing.T) {
	needChromium(t)
	const (
		login   = "The login form refuses a post from another site"
		consent = "The consent form refuses a post from another site"
	)
	for _, tt := range []struct {
		name string
		b    behaviour
		want report.Status
	}{
		{"unprotected", behaviour{}, failed},
		{"bound to the browser", behaviour{formCSRF: true}, passed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := fakeTarget(t, tt.b, "https", nil)
			expectStatus(t, runScenarios(t, cfg, login, consent), map[string]report.Status{login: tt.want, consent: tt.want})
		})
	}
}

// TestVerdictRequestObjectWins: OIDC Core §6.3.3, a parameter in both the
// request object and the query takes the object's value. A provider that
// says it takes request objects but uses the query's registered redirect
// URI over the object's unregistered one fails; one that reads the object
// refuses the request. The provider here never fetches a request_uri.
func TestVerdictRequestObjectWins(t *testing.T) {
	needChromium(t)
	const (
		outline     = "An unregistered redirect URI in a request object <how> is refused, though the query's is registered"
		byValue     = "An unregistered redirect URI in a request object by value is refused, though the query's is registered"
		byReference = "An unregistered redirect URI in a request object by reference is refused, though the query's is registered"
	)
	meta := map[string]any{
		"request_parameter_supported":                 true,
		"request_uri_parameter_supported":             true,
		"request_object_signing_alg_values_supported": []string{"none"},
	}
	for _, tt := range []struct {
		name string
		b    behaviour
		want map[string]report.Status
	}{
		{"object ignored", behaviour{meta: meta}, map[string]report.Status{byValue: failed, byReference: failed}},
		{"object read", behaviour{meta: meta, requestObjects: true}, map[string]report.Status{byValue: passed, byReference: failed}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := fakeTarget(t, tt.b, "https", nil)
			expectStatus(t, runScenarios(t, cfg, outline), tt.want)
		})
	}
}
