package roles_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/launch/peer"
	"github.com/oauthtrio/oauthtrio/steps/report"
	"github.com/oauthtrio/oauthtrio/steps/roles"
)

// requirePeersEnv makes a missing Node.js or npm registry a failure
// instead of a skip, as for the other third-party tests.
const requirePeersEnv = "OAUTHTRIO_REQUIRE_PEERS"

// openIDClientFindings are what the client checks find in the relying
// party on openid-client v6: scenarios that fail or warn, and why. Any
// other outcome than these, or a passed scenario among them, fails the
// test, so a change in the library or in the checks is seen.
var openIDClientFindings = map[string]report.Status{
	// openid-client accepts an ID token from the token endpoint whose
	// signature does not verify: OIDC Core §3.1.3.7 item 6 lets a code-flow
	// client rely on TLS instead.
	"The client should refuse an ID token with a signature by a key its JWKS does not list": report.StatusWarning,
	"The client should refuse an ID token with a kid its JWKS does not list":                report.StatusWarning,
	// It accepts any iat (item 10 leaves the range to the client) and does
	// not check at_hash in the code flow (§3.1.3.8: MAY).
	"The client should refuse an ID token with an iat a day from now": report.StatusWarning,
	"The client should refuse an ID token with a wrong at_hash":       report.StatusWarning,
}

// TestOpenIDClientRP runs the client checks against a web relying party
// on npm's openid-client v6 (testdata/clients/openid-client-rp), a client
// nobody here wrote.
func TestOpenIDClientRP(t *testing.T) {
	if testing.Short() {
		t.Skip("installs npm packages and drives Chromium; skipped with -short")
	}
	if _, err := browser.FindChromium(); err != nil {
		t.Fatalf("the client checks need Chromium (apt-get install -y chromium): %v", err)
	}
	dir := t.TempDir()
	err := peer.InstallNPM(t.Context(), "../../testdata/clients/openid-client-rp", dir, "package.json", "package-lock.json", "rp.mjs")
	if errors.Is(err, peer.ErrUnavailable) {
		if os.Getenv(requirePeersEnv) == "1" {
			t.Fatalf("%v (%s=1 requires the client to run)", err, requirePeersEnv)
		}
		t.Skipf("the openid-client RP cannot run here, skipped (set %s=1 to make this a failure): %v", requirePeersEnv, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	ports, err := peer.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	reg := &issuer.Client{ID: "openid-client-rp", Secret: "openid-client-rp-secret", RedirectURI: base + "/callback"}
	cfg := &issuer.Config{RelyingParty: &issuer.RelyingParty{
		URL: base + "/", Profile: "openid-client-rp", Registration: reg, SupportsIssParameter: true,
	}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	op, err := roles.StartTestOP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	caFile := filepath.Join(dir, "test-op.pem")
	if err := os.WriteFile(caFile, op.CertificatePEM(), 0o644); err != nil {
		t.Fatal(err)
	}

	rp, err := peer.Start(dir, []string{
		"OAUTHTRIO_ISSUER=" + op.Issuer(),
		"OAUTHTRIO_CLIENT_ID=" + reg.ID,
		"OAUTHTRIO_CLIENT_SECRET=" + reg.Secret,
		"OAUTHTRIO_REDIRECT_URI=" + reg.RedirectURI,
		"NODE_EXTRA_CA_CERTS=" + caFile,
	}, "node", "rp.mjs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rp.Stop(5 * time.Second)
		t.Logf("rp.mjs output:\n%s", rp.Output())
	})
	waitForPage(t, rp, base+"/")

	res, err := roles.RunClient(context.Background(), cfg, op, roles.Options{Output: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Report.Scenarios() {
		want, finding := openIDClientFindings[s.Name]
		switch {
		case finding && s.Status != want:
			t.Errorf("%q is %s, the findings say %s", s.Name, s.Status.Label(), want.Label())
		case !finding && s.Status != report.StatusPassed:
			t.Errorf("%q is %s: %s", s.Name, s.Status.Label(), s.Error)
		}
	}
}

// waitForPage polls url until it answers 200 or the process exits.
func waitForPage(t *testing.T, p *peer.Process, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if exited, err := p.Exited(); exited {
			t.Fatalf("rp.mjs exited (%v):\n%s", err, p.Output())
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("rp.mjs did not answer %s:\n%s", url, p.Output())
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
