package reference_test

import (
	"context"
	"testing"

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
			found := false
			for _, s := range res.Report.Scenarios() {
				if s.Name != tc.scenario {
					continue
				}
				found = true
				if s.Status != report.StatusFailed && s.Status != report.StatusWarning {
					t.Errorf("with %s, %q is %s", tc.fault, tc.scenario, s.Status.Label())
				}
			}
			if !found {
				t.Errorf("no scenario %q", tc.scenario)
			}
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
