// Package selfsigned makes the self-signed TLS certificates both halves of
// oauthtrio need (the reference's HTTPS front, the suite's redirect
// listener, the IRIS web gateway) and the SPKI hashes Chromium trusts them
// by.
package selfsigned

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
	"math/big"
	"net"
	"os"
	"time"
)

// Options describe a certificate.
type Options struct {
	CommonName   string
	Organization string
	// Hosts are the DNS names and IP addresses the certificate is for.
	Hosts []string
	// Lifetime is how long it is valid from Now; default 7 days.
	Lifetime time.Duration
	// Now is when its validity starts; zero means the current time.
	Now time.Time
}

// Certificate is a key pair in the forms its users need.
type Certificate struct {
	CertPEM, KeyPEM []byte
	Leaf            *x509.Certificate
	TLS             tls.Certificate
}

// New makes an ECDSA P-256 key and a certificate for it signed by itself.
// The certificate is its own root (CA, CertSign), so a client can trust it
// instead of turning verification off.
func New(opts Options) (*Certificate, error) {
	if opts.Lifetime <= 0 {
		opts.Lifetime = 7 * 24 * time.Hour
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certificate: generate key: %w", err)
	}
	// RFC 5280 §4.1.2.2: serials are positive and at most 20 octets.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("certificate: serial number: %w", err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: opts.CommonName},
		// Backdated by an hour to tolerate a client clock that lags.
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(opts.Lifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
	}
	if opts.Organization != "" {
		tmpl.Subject.Organization = []string{opts.Organization}
	}
	for _, h := range opts.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("certificate: create: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certificate: marshal key: %w", err)
	}
	return &Certificate{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		Leaf:    leaf,
		TLS:     tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
	}, nil
}

// SPKIHash returns the base64 SHA-256 of the certificate's
// SubjectPublicKeyInfo, the form Chromium's
// --ignore-certificate-errors-spki-list expects.
func SPKIHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ReadFile returns the certificates of a PEM file, and its bytes.
func ReadFile(path string) ([]*x509.Certificate, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, nil, errors.New(path + " holds no PEM certificate")
	}
	return certs, data, nil
}
