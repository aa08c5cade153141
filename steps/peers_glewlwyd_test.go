package steps

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/steps/launch/peer"
)

// TestGlewlwyd runs the whole suite against Glewlwyd 2.7, a certified
// OpenID provider packaged by Debian (testdata/peers/glewlwyd), and fails
// on any MUST failure that its expected-failures file does not explain.
// start.sh builds the provider's SQLite database, TLS certificate and
// signing key in a temporary directory and runs glewlwyd on a free
// loopback port. Reports go to $OAUTHTRIO_REPORT_DIR/glewlwyd when set.
func TestGlewlwyd(t *testing.T) {
	if testing.Short() {
		t.Skip("the peer run starts Glewlwyd and drives a browser; skipped with -short")
	}
	for _, tool := range []string{"glewlwyd", "sqlite3", "openssl", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s is not installed (apt-get install -y glewlwyd sqlite3 openssl)", tool)
			if os.Getenv(requirePeersEnv) == "1" {
				t.Fatalf("%s; %s=1 requires the peer to run", msg, requirePeersEnv)
			}
			t.Skipf("Glewlwyd cannot run here, skipped (set %s=1 to make this a failure): %s", requirePeersEnv, msg)
		}
	}
	ctx := t.Context()
	script, err := filepath.Abs("../testdata/peers/glewlwyd/start.sh")
	if err != nil {
		t.Fatal(err)
	}
	ports, err := peer.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	issuerPort, redirectPort := strconv.Itoa(ports[0]), strconv.Itoa(ports[1])
	// The target configuration reads the same variables as start.sh.
	t.Setenv("GLEWLWYD_PORT", issuerPort)
	t.Setenv("GLEWLWYD_REDIRECT_PORT", redirectPort)
	t.Setenv("GLEWLWYD_DIR", dir)

	proc, err := peer.Start(dir, nil, "sh", script, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Stop(5 * time.Second)
		if !peer.PortFree(ports[0]) {
			t.Errorf("port %d is still taken after Glewlwyd stopped", ports[0])
		}
		if t.Failed() {
			t.Logf("Glewlwyd's output:\n%s", proc.Output())
		}
	})
	issuerURL := "https://127.0.0.1:" + issuerPort + "/api/oidc"
	start := time.Now()
	if err := waitForTLSDiscovery(ctx, proc, issuerURL, filepath.Join(dir, "tls.crt"), 60*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("Glewlwyd answered discovery after %s", time.Since(start).Round(time.Millisecond))

	runSuiteAgainstPeer(t, "glewlwyd", issuerURL, "../testdata/peers/glewlwyd/target.yaml")
}

// waitForTLSDiscovery polls the issuer's discovery document until it
// answers 200 over TLS verified with the certificate in caFile, which the
// process writes when it starts; it gives up when the process exits or
// limit passes.
func waitForTLSDiscovery(ctx context.Context, proc *peer.Process, issuerURL, caFile string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	url := issuerURL + "/.well-known/openid-configuration"
	var last error
	for {
		if exited, err := proc.Exited(); exited {
			return fmt.Errorf("Glewlwyd exited before serving %s: %v", url, err)
		}
		last = getOK(ctx, url, caFile)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no discovery document at %s within %s: %v", url, limit, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func getOK(ctx context.Context, url, caFile string) error {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New(caFile + " holds no certificate yet")
	}
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
