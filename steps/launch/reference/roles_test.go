package reference_test

import (
	"context"
	"testing"

	"github.com/oauthtrio/oauthtrio/reference/client"
	"github.com/oauthtrio/oauthtrio/reference/resserver"
	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
	"github.com/oauthtrio/oauthtrio/steps/report"
	"github.com/oauthtrio/oauthtrio/steps/roles"
	"github.com/oauthtrio/oauthtrio/steps/testop"
)

// startAgainstTestOP starts a test OP and a reference trio whose resource
// server and web client trust it.
func startAgainstTestOP(t *testing.T) (*testop.OP, *reference.RolesInstance) {
	t.Helper()
	op, err := testop.Start(testop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	inst, err := reference.StartAgainst(context.Background(), op, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	return op, inst
}

// TestReferenceResourceServerPasses runs every resource-server check
// against the reference's resource server: none may fail or warn.
func TestReferenceResourceServerPasses(t *testing.T) {
	op, inst := startAgainstTestOP(t)
	res, err := roles.RunResource(context.Background(), inst.Config, op, roles.Options{Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	requireAllPassed(t, res.Report)
}

// TestResourceChecksCatchTheirFaults weakens the reference's resource
// server one way at a time (OAUTHTRIO_FAULTS) and runs the scenarios that
// must see it: each must fail.
func TestResourceChecksCatchTheirFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the resource-server checks once per fault; skipped with -short")
	}
	op, inst := startAgainstTestOP(t)
	table := []struct{ fault, scenario string }{
		{resserver.FaultAnySignature, "The resource server refuses an access token with a signature by a key its JWKS does not list"},
		{resserver.FaultUnknownKID, "The resource server refuses an access token with a kid its JWKS does not list"},
		{resserver.FaultAlgNone, "The resource server refuses an access token with alg none"},
		{resserver.FaultAnyType, "The resource server refuses an access token with typ JWT"},
		{resserver.FaultAnyType, "The resource server refuses an access token with no typ"},
		{resserver.FaultAnyIssuer, "The resource server refuses an access token with another issuer"},
		{resserver.FaultAnyAudience, "The resource server refuses an access token with another audience"},
		{resserver.FaultOptionalAudience, "The resource server refuses an access token with no audience"},
		{resserver.FaultExpired, "The resource server refuses an access token with an exp an hour ago"},
		{resserver.FaultNotYetValid, "The resource server refuses an access token with an nbf an hour from now"},
		{resserver.FaultIgnoreInactive, "The resource server refuses an access token with introspection saying it is inactive"},
		{resserver.FaultAnyScope, "The resource server refuses an access token without the scope it requires"},
		{resserver.FaultOwnAudience, "A correct access token opens the protected resource"},
		{resserver.FaultNoChallenge, "The resource server refuses an access token with another issuer"},
		{resserver.FaultStatus400, "An invalid access token (an exp an hour ago) is answered 401 invalid_token"},
		{resserver.FaultAnyScope, "A token without the required scope is answered 403 insufficient_scope"},
	}
	for _, tc := range table {
		t.Run(tc.fault+"/"+tc.scenario, func(t *testing.T) {
			t.Setenv(resserver.FaultsEnv, tc.fault)
			res, err := roles.RunResource(context.Background(), inst.Config, op, roles.Options{Output: testWriter{t}})
			if err != nil {
				t.Fatal(err)
			}
			requireCaught(t, res.Report, tc.fault, tc.scenario)
		})
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestReferenceClientPasses drives the reference web client's login
// against the test OP through every client check: none may fail or warn.
func TestReferenceClientPasses(t *testing.T) {
	if _, err := browser.FindChromium(); err != nil {
		t.Fatalf("the client checks need Chromium (apt-get install -y chromium): %v", err)
	}
	op, inst := startAgainstTestOP(t)
	res, err := roles.RunClient(context.Background(), inst.Config, op, roles.Options{Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	requireAllPassed(t, res.Report)
}

// requireAllPassed fails unless every scenario passed.
func requireAllPassed(t *testing.T, rep *report.Report) {
	t.Helper()
	c := rep.Counts()
	if c.Failed > 0 || c.Warnings > 0 || c.Passed == 0 || c.NotApplicable > 0 || c.NotRun > 0 {
		t.Errorf("counts %+v", c)
		for _, s := range rep.Scenarios() {
			if s.Status != report.StatusPassed {
				t.Logf("%s: %s %s", s.Status.Label(), s.Name, s.Error)
			}
		}
	}
}

// TestClientChecksCatchTheirFaults weakens the reference's web client one
// way at a time (OAUTHTRIO_FAULTS) and runs the scenarios that must see
// it: each must fail (or warn, for a SHOULD).
func TestClientChecksCatchTheirFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the client checks once per fault; skipped with -short")
	}
	if _, err := browser.FindChromium(); err != nil {
		t.Fatalf("the client checks need Chromium (apt-get install -y chromium): %v", err)
	}
	op, inst := startAgainstTestOP(t)
	bo, err := roles.BrowserOptions(inst.Config, op, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := browser.Start(context.Background(), bo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	// The ID token rows without an OIDF module of their own.
	const unnamed = "@OIDCC-3.1.3.7 && ~@should && ~@oidf:rp-id-token-iss && ~@oidf:rp-id-token-aud && ~@oidf:rp-nonce-invalid"
	const should = "@should && @OIDCC-3.1.3.7 && ~@oidf:rp-id-token-bad-sig-rs256"
	const refuses = "The client refuses an ID token with "
	const shouldRefuse = "The client should refuse an ID token with "
	table := []struct{ faults, tags, scenario string }{
		{client.FaultAnySignature, "@oidf:rp-id-token-bad-sig-rs256", shouldRefuse + "a signature by a key its JWKS does not list"},
		{client.FaultAlgNone, should, shouldRefuse + "alg none"},
		{client.FaultAnySignature, should, shouldRefuse + "a kid its JWKS does not list"},
		{client.FaultAnyIssuer, "@oidf:rp-id-token-iss", refuses + "another issuer"},
		{client.FaultAnyAudience, "@oidf:rp-id-token-aud", refuses + "another audience"},
		{client.FaultExpired, unnamed, refuses + "an exp an hour ago"},
		{client.FaultAnyNonce, "@oidf:rp-nonce-invalid", refuses + "another nonce"},
		{client.FaultAnyNonce, "@oidf:rp-nonce-invalid", refuses + "no nonce"},
		{client.FaultAnyIAT, "@oidf:rp-id-token-iat", refuses + "no iat"},
		{client.FaultAnySub, "@oidf:rp-id-token-sub", refuses + "no sub"},
		{client.FaultOptionalAZP, should, shouldRefuse + "a second audience and no azp"},
		{client.FaultAnyIAT, should, shouldRefuse + "an iat a day from now"},
		{client.FaultAnyATHash, "@OIDCC-3.1.3.8", shouldRefuse + "a wrong at_hash"},
		{client.FaultUserinfoAnySub, "@oidf:rp-userinfo-bad-sub-claim", "The client does not use a UserInfo response about another user"},
		{client.FaultAnyIssParameter, "@RFC9207-2.4", "A client that supports RFC 9207 refuses an authorization response with another iss"},
		{client.FaultAnyIssParameter, "@RFC9207-2.4", "A client that supports RFC 9207 refuses an authorization response with no iss"},
		{client.FaultAnyState, "@RFC9700-4.7.1 && ~@OIDCC-3.1.2.1", "The client refuses an authorization response with another state"},
		{client.FaultNoState, "@OIDCC-3.1.2.1 && @RFC9700-4.7.1", "The client sends a state"},
		{client.FaultNoPKCE + "," + client.FaultNoNonce, "@RFC9700-2.1.1 && ~@should", "The client protects its authorization code with PKCE or a nonce"},
		{client.FaultPlainPKCE, "@RFC7636-4.2", "The client uses PKCE with S256"},
		{client.FaultRedirectURI, "@RFC9700-4.1.3", "The client sends its registered redirect URI, byte for byte"},
		{client.FaultTokenInURL, "@RFC6750-5.3", "No token travels in a URL"},
		// Last: the rotation stays.
		{client.FaultStaticJWKS, "@oidf:rp-key-rotation-op-sign-key", "The client follows a rotation of the test OP's signing key"},
	}
	for _, tc := range table {
		t.Run(tc.faults+"/"+tc.scenario, func(t *testing.T) {
			t.Setenv(client.FaultsEnv, tc.faults)
			res, err := roles.RunClient(context.Background(), inst.Config, op, roles.Options{Output: testWriter{t}, Tags: tc.tags, Browser: b})
			if err != nil {
				t.Fatal(err)
			}
			requireCaught(t, res.Report, tc.faults, tc.scenario)
		})
	}
}

// requireCaught fails unless the scenario ran and failed (or warned).
func requireCaught(t *testing.T, rep *report.Report, faults, scenario string) {
	t.Helper()
	for _, s := range rep.Scenarios() {
		if s.Name != scenario {
			continue
		}
		if s.Status != report.StatusFailed && s.Status != report.StatusWarning {
			t.Errorf("with %s, %q is %s", faults, scenario, s.Status.Label())
		}
		return
	}
	t.Errorf("no scenario %q ran", scenario)
}
