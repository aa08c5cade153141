package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestNewIsTrustedAsItsOwnRoot(t *testing.T) {
	c, err := New(Options{CommonName: "webserver", Hosts: []string{"webserver", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{c.TLS}}
	srv.StartTLS()
	defer srv.Close()

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CertPEM) {
		t.Fatal("CertPEM holds no certificate")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "webserver"}}}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("a client that trusts only the certificate cannot reach the server: %v", err)
	}
	resp.Body.Close()
	if ip := net.ParseIP("127.0.0.1"); !c.Leaf.IPAddresses[0].Equal(ip) {
		t.Errorf("IP SAN = %v, want 127.0.0.1", c.Leaf.IPAddresses)
	}
}

func TestReadFileAndSPKIHash(t *testing.T) {
	c, err := New(Options{CommonName: "x", Hosts: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(path, append(c.KeyPEM, c.CertPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	certs, _, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 || SPKIHash(certs[0]) != SPKIHash(c.Leaf) {
		t.Fatalf("read %d certificates; the hash differs from the made one's", len(certs))
	}
	if len(SPKIHash(c.Leaf)) != 44 {
		t.Errorf("SPKI hash %q is not base64 of 32 bytes", SPKIHash(c.Leaf))
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("nothing"), 0o600)
	if _, _, err := ReadFile(empty); err == nil {
		t.Error("a file without certificates was accepted")
	}
}
