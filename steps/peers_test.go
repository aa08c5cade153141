package steps

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/launch/peer"
)

// requirePeersEnv makes a missing Node.js or npm registry a failure instead
// of a skip; CI sets it, so the peer checks cannot silently stop running.
const requirePeersEnv = "OAUTHTRIO_REQUIRE_PEERS"

// TestNodeOIDCProvider runs the whole suite against node-oidc-provider, a
// certified OpenID provider (testdata/peers/node-oidc-provider), and fails
// on any MUST failure that its expected-failures file does not explain.
// A suite that only ever met its own reference would learn that
// reference's habits; a second, independent provider keeps it honest.
// Reports go to $OAUTHTRIO_REPORT_DIR/node-oidc-provider when set.
func TestNodeOIDCProvider(t *testing.T) {
	if testing.Short() {
		t.Skip("the peer run installs npm packages and drives a browser; skipped with -short")
	}
	ctx := t.Context()
	const fixture = "../testdata/peers/node-oidc-provider"
	dir := t.TempDir()
	err := peer.InstallNPM(ctx, fixture, dir, "package.json", "package-lock.json", "server.mjs")
	if errors.Is(err, peer.ErrUnavailable) {
		if os.Getenv(requirePeersEnv) == "1" {
			t.Fatalf("%v (%s=1 requires the peer to run)", err, requirePeersEnv)
		}
		t.Skipf("node-oidc-provider cannot run here, skipped (set %s=1 to make this a failure): %v", requirePeersEnv, err)
	}
	if err != nil {
		t.Fatal(err)
	}

	ports, err := peer.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	issuerPort, redirectPort := strconv.Itoa(ports[0]), strconv.Itoa(ports[1])
	// The target configuration reads the same variables as server.mjs.
	t.Setenv("NODE_OIDC_PORT", issuerPort)
	t.Setenv("NODE_OIDC_REDIRECT_PORT", redirectPort)

	proc, err := peer.Start(dir, nil, "node", "server.mjs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Stop(5 * time.Second)
		if !peer.PortFree(ports[0]) {
			t.Errorf("port %d is still taken after node-oidc-provider stopped", ports[0])
		}
		if t.Failed() {
			t.Logf("node-oidc-provider's output:\n%s", proc.Output())
		}
	})
	issuerURL := "http://127.0.0.1:" + issuerPort
	start := time.Now()
	if err := proc.WaitForDiscovery(ctx, nil, issuerURL, 100*time.Millisecond, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("node-oidc-provider answered discovery after %s", time.Since(start).Round(time.Millisecond))

	runSuiteAgainstPeer(t, "node-oidc-provider", issuerURL, fixture+"/target.yaml")
}

// runSuiteAgainstPeer runs the whole suite against a started peer with its
// target configuration and fails on a MUST failure its expected-failures
// file does not explain. Reports go to $OAUTHTRIO_REPORT_DIR/<name> when
// set; the report's verdict (res.Failed) decides.
func runSuiteAgainstPeer(t *testing.T, name, issuerURL, configPath string) {
	t.Helper()
	cfg, err := issuer.LoadConfig(configPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != issuerURL {
		t.Fatalf("the target configuration names the issuer %s, the peer runs at %s", cfg.Issuer, issuerURL)
	}
	reportDir := filepath.Join(t.TempDir(), "report")
	if d := os.Getenv("OAUTHTRIO_REPORT_DIR"); d != "" {
		reportDir = filepath.Join(d, name)
	}
	res, err := Run(t.Context(), cfg, Options{
		ReportDir: reportDir,
		Tags:      os.Getenv("OAUTHTRIO_TAGS"),
		Output:    newTestOutput(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed {
		t.Errorf("MUST scenarios failed against %s; see %s", name, filepath.Join(reportDir, "report.html"))
	}
}
