package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/internal/selfsigned"
	"github.com/oauthtrio/oauthtrio/reference/trio"
)

func TestCheckRoleUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--resource", "https://api.test/", "--client", "https://app.test/"}, "give one"},
		{[]string{"--client", "https://app.test/"}, "--client needs --config with a client section"},
		{[]string{"--resource", "api"}, `resource.url: "api" is not an absolute http(s) URL`},
		{[]string{"--resource", "https://api.test/", "--issuer", "https://idp.test"}, "--issuer: not for --resource or --client"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"check"}, tc.args...), &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("check %v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.want)
		}
	}
}

// fixedTestOP is a certificate for the test OP, written to dir, and a
// free loopback address for it: what a server configured in advance
// trusts.
func fixedTestOP(t *testing.T, dir string) (addr, certFile string) {
	t.Helper()
	cert, err := selfsigned.New(selfsigned.Options{CommonName: "test OP", Hosts: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "op.pem"), filepath.Join(dir, "op-key.pem")
	for f, data := range map[string][]byte{certFile: cert.CertPEM, keyFile: cert.KeyPEM} {
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String(), certFile
}

// TestCheckResource runs "oauthtrio check --resource" against the
// reference's resource server, started in advance to trust the test OP at
// a fixed address with a fixed certificate, as the README describes.
func TestCheckResource(t *testing.T) {
	dir := t.TempDir()
	opAddr, certFile := fixedTestOP(t, dir)

	tr, err := trio.Start(t.Context(), trio.Config{
		Addr: "127.0.0.1:0", InMemory: true,
		ResourceServer: trio.ExternalResourceServer{
			Issuer: "https://" + opAddr, Audience: "https://api.oauthtrio.test",
			ClientID: "rs", ClientSecret: "rs-secret", RequiredScope: "my/scope", CAFile: certFile,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(context.Background()) })

	config := filepath.Join(dir, "rs.yaml")
	yaml := fmt.Sprintf(`
test_op: {addr: %q, cert_file: op.pem, key_file: op-key.pem}
resource:
  audience: https://api.oauthtrio.test
  scope: my/scope
  requires_at_jwt: true
  introspects: true
  introspector: {id: rs, secret: rs-secret}
tls: {ca_file: %q}
`, opAddr, tr.CertFile)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "--config", config, "--resource", tr.URL() + "/resserver/protected-resources/", "--report", filepath.Join(dir, "reports")}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "0 failed") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "reports", "report.html")); err != nil {
		t.Error(err)
	}
}

// TestCheckClient runs "oauthtrio check --client" against the reference's
// web client, started in advance to use the test OP, for one check.
func TestCheckClient(t *testing.T) {
	if testing.Short() {
		t.Skip("drives Chromium; skipped with -short")
	}
	dir := t.TempDir()
	opAddr, certFile := fixedTestOP(t, dir)
	tr, err := trio.Start(t.Context(), trio.Config{
		Addr: "127.0.0.1:0", InMemory: true,
		WebClient: trio.ExternalWebClient{
			Issuer: "https://" + opAddr, ClientID: "web", ClientSecret: "web-secret",
			Scopes: []string{"openid", "profile"}, CAFile: certFile,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(context.Background()) })

	config := filepath.Join(dir, "client.yaml")
	yaml := fmt.Sprintf(`
test_op: {addr: %q, cert_file: op.pem, key_file: op-key.pem}
client:
  profile: reference
  supports_iss_parameter: true
  registration: {id: web, secret: web-secret, redirect_uri: %q}
tls: {ca_file: %q}
`, opAddr, tr.URL()+"/client/application/callback", tr.CertFile)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "--config", config, "--client", tr.URL() + "/client/application/", "--tags", "@RFC9700-4.1.3", "--report", ""}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "1 scenarios: 1 passed") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}
