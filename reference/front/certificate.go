package front

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
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

// EnsureCertificate returns the self-signed certificate pair in stateDir,
// generating it on first use and again when the existing one is expired,
// about to expire, unreadable or missing a required name. Use
// LoadOrCreateCertificate to learn whether and why a pair was generated.
func EnsureCertificate(stateDir string) (certFile, keyFile string, err error) {
	status, err := LoadOrCreateCertificate(stateDir)
	if err != nil {
		return "", "", err
	}
	return status.CertFile, status.KeyFile, nil
}

// LoadOrCreateCertificate is EnsureCertificate with the reason for a
// regeneration, so the caller can tell the user that browsers which trusted
// the old certificate must be told about the new one.
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
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return time.Time{}, fmt.Errorf("certificate: generate key: %w", err)
	}
	// RFC 5280 §4.1.2.2: serials are positive and at most 20 octets.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return time.Time{}, fmt.Errorf("certificate: serial number: %w", err)
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "webserver", Organization: []string{"oauthtrio"}},
		DNSNames:     certificateDNSNames,
		IPAddresses:  certificateIPs,
		// Backdated by an hour to tolerate a client clock that lags.
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(certificateLifetime),
		// The certificate is its own root: CertSign and IsCA let a client
		// put it in its trust store instead of disabling verification.
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return time.Time{}, fmt.Errorf("certificate: create: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return time.Time{}, fmt.Errorf("certificate: marshal key: %w", err)
	}
	// The key goes first: a crash between the two writes leaves a pair that
	// does not match, which the next start detects and regenerates.
	if err := writeFileAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return time.Time{}, fmt.Errorf("certificate: write key: %w", err)
	}
	if err := writeFileAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return time.Time{}, fmt.Errorf("certificate: write certificate: %w", err)
	}
	return template.NotAfter, nil
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
	data, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, nil, fmt.Errorf("certificate: no CERTIFICATE block in %s", certFile)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate: parse %s: %w", certFile, err)
		}
		return cert, data, nil
	}
}

// SPKIHash returns the base64 SHA-256 of the certificate's
// SubjectPublicKeyInfo, the form Chromium's
// --ignore-certificate-errors-spki-list expects.
func SPKIHash(certFile string) (string, error) {
	cert, _, err := readCertificate(certFile)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
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
