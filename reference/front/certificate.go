package front

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/oauthtrio/oauthtrio/internal/selfsigned"
)

// File names of the certificate pair inside the state directory.
const (
	CertFileName = "tls.crt"
	KeyFileName  = "tls.key"
)

// certificateLifetime is about a year: long enough that a workshop set-up
// keeps working, short enough that browsers accept it.
const certificateLifetime = 365 * 24 * time.Hour

// renewBefore regenerates a certificate that would expire during a run, so
// a long conformance session does not fail half-way through.
const renewBefore = 7 * 24 * time.Hour

// certificateDNSNames and certificateIPs are the names the front answers to:
// `webserver` is the host name of the IRIS workshop's web server container,
// the others cover a local run.
var (
	certificateDNSNames = []string{"webserver", "localhost"}
	certificateIPs      = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
)

// CertificateStatus says which certificate pair the front uses and whether
// it was made on this start.
type CertificateStatus struct {
	CertFile string
	KeyFile  string
	// Generated is true when the pair was written on this call.
	Generated bool
	// Reason explains a generation ("no certificate yet", "expired on …",
	// "unreadable: …"); it is empty when an existing pair was reused.
	Reason   string
	NotAfter time.Time
}

// LoadOrCreateCertificate returns the self-signed certificate pair in
// stateDir, generating it on first use and again when the existing one is
// expired, about to expire, unreadable or missing a required name. The
// status says whether and why a pair was generated, so the caller can tell
// the user that browsers which trusted the old certificate must be told
// about the new one.
func LoadOrCreateCertificate(stateDir string) (CertificateStatus, error) {
	return loadOrCreateCertificate(stateDir, time.Now())
}

func loadOrCreateCertificate(stateDir string, now time.Time) (CertificateStatus, error) {
	status := CertificateStatus{
		CertFile: filepath.Join(stateDir, CertFileName),
		KeyFile:  filepath.Join(stateDir, KeyFileName),
	}
	reason, notAfter := checkCertificate(status.CertFile, status.KeyFile, now)
	if reason == "" {
		status.NotAfter = notAfter
		return status, nil
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return CertificateStatus{}, fmt.Errorf("certificate: state directory: %w", err)
	}
	notAfter, err := writeCertificate(status.CertFile, status.KeyFile, now)
	if err != nil {
		return CertificateStatus{}, err
	}
	status.Generated = true
	status.Reason = reason
	status.NotAfter = notAfter
	return status, nil
}

// checkCertificate returns why the pair on disk cannot be reused, or "" and
// its expiry when it can.
func checkCertificate(certFile, keyFile string, now time.Time) (reason string, notAfter time.Time) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no certificate yet", time.Time{}
	case err != nil:
		return fmt.Sprintf("existing pair unreadable: %v", err), time.Time{}
	}
	cert := pair.Leaf
	if cert == nil {
		if cert, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Sprintf("existing certificate unreadable: %v", err), time.Time{}
		}
	}
	if now.After(cert.NotAfter) {
		return fmt.Sprintf("existing certificate expired on %s", cert.NotAfter.Format(time.DateOnly)), time.Time{}
	}
	if now.Add(renewBefore).After(cert.NotAfter) {
		return fmt.Sprintf("existing certificate expires on %s", cert.NotAfter.Format(time.DateOnly)), time.Time{}
	}
	for _, name := range certificateDNSNames {
		if cert.VerifyHostname(name) != nil {
			return fmt.Sprintf("existing certificate does not name %s", name), time.Time{}
		}
	}
	for _, ip := range certificateIPs {
		if cert.VerifyHostname(ip.String()) != nil {
			return fmt.Sprintf("existing certificate does not name %s", ip), time.Time{}
		}
	}
	return "", cert.NotAfter
}

// writeCertificate generates a key and a self-signed certificate valid from
// now and writes both, each through a temporary file so that a crash never
// leaves a half-written file behind.
func writeCertificate(certFile, keyFile string, now time.Time) (time.Time, error) {
	hosts := slices.Clone(certificateDNSNames)
	for _, ip := range certificateIPs {
		hosts = append(hosts, ip.String())
	}
	c, err := selfsigned.New(selfsigned.Options{
		CommonName: "webserver", Organization: "oauthtrio", Hosts: hosts,
		Lifetime: certificateLifetime, Now: now,
	})
	if err != nil {
		return time.Time{}, err
	}
	// The key goes first: a crash between the two writes leaves a pair that
	// does not match, which the next start detects and regenerates.
	if err := writeFileAtomic(keyFile, c.KeyPEM, 0o600); err != nil {
		return time.Time{}, fmt.Errorf("certificate: write key: %w", err)
	}
	if err := writeFileAtomic(certFile, c.CertPEM, 0o644); err != nil {
		return time.Time{}, fmt.Errorf("certificate: write certificate: %w", err)
	}
	return c.Leaf.NotAfter, nil
}

func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// readCertificate parses the first certificate of a PEM file.
func readCertificate(certFile string) (*x509.Certificate, []byte, error) {
	certs, data, err := selfsigned.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	return certs[0], data, nil
}

// SPKIHash returns the base64 SHA-256 of the certificate's
// SubjectPublicKeyInfo, the form Chromium's
// --ignore-certificate-errors-spki-list expects.
func SPKIHash(certFile string) (string, error) {
	cert, _, err := readCertificate(certFile)
	if err != nil {
		return "", err
	}
	return selfsigned.SPKIHash(cert), nil
}

// CertPool returns a pool that trusts the certificates in certFile, for Go
// clients of the front.
func CertPool(certFile string) (*x509.CertPool, error) {
	_, data, err := readCertificate(certFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("certificate: no usable certificate in %s", certFile)
	}
	return pool, nil
}
