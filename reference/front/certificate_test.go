package front

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnsureCertificateReusesPair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")

	first, err := LoadOrCreateCertificate(dir)
	require.NoError(t, err)
	assert.True(t, first.Generated)
	assert.Equal(t, "no certificate yet", first.Reason)
	assert.Equal(t, filepath.Join(dir, "tls.crt"), first.CertFile)
	assert.Equal(t, filepath.Join(dir, "tls.key"), first.KeyFile)
	certBytes, err := os.ReadFile(first.CertFile)
	require.NoError(t, err)
	keyBytes, err := os.ReadFile(first.KeyFile)
	require.NoError(t, err)

	certFile, keyFile, err := testCertificate(dir)
	require.NoError(t, err)
	assert.Equal(t, first.CertFile, certFile)
	assert.Equal(t, first.KeyFile, keyFile)
	again, err := os.ReadFile(certFile)
	require.NoError(t, err)
	assert.Equal(t, certBytes, again, "certificate must be reused")
	again, err = os.ReadFile(keyFile)
	require.NoError(t, err)
	assert.Equal(t, keyBytes, again, "key must be reused")

	status, err := LoadOrCreateCertificate(dir)
	require.NoError(t, err)
	assert.False(t, status.Generated)
	assert.Empty(t, status.Reason)
	assert.Equal(t, first.NotAfter.Unix(), status.NotAfter.Unix())

	if runtime.GOOS != "windows" {
		info, err := os.Stat(keyFile)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		info, err = os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	}
}

func TestCertificateContents(t *testing.T) {
	certFile, keyFile, err := testCertificate(t.TempDir())
	require.NoError(t, err)
	cert, _, err := readCertificate(certFile)
	require.NoError(t, err)

	assert.Equal(t, "webserver", cert.Subject.CommonName)
	assert.ElementsMatch(t, []string{"webserver", "localhost"}, cert.DNSNames)
	var ips []string
	for _, ip := range cert.IPAddresses {
		ips = append(ips, ip.String())
	}
	assert.ElementsMatch(t, []string{"127.0.0.1", "::1"}, ips)
	assert.True(t, cert.IsCA)
	assert.True(t, cert.BasicConstraintsValid)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, cert.ExtKeyUsage)
	assert.NotZero(t, cert.KeyUsage&x509.KeyUsageDigitalSignature)
	assert.NotZero(t, cert.KeyUsage&x509.KeyUsageCertSign)
	lifetime := time.Until(cert.NotAfter)
	assert.InDelta(t, (365 * 24 * time.Hour).Hours(), lifetime.Hours(), 2)

	// The certificate is its own root for every name it carries.
	pool, err := CertPool(certFile)
	require.NoError(t, err)
	for _, name := range []string{"webserver", "localhost", "127.0.0.1", "::1"} {
		_, err := cert.Verify(x509.VerifyOptions{
			DNSName:   name,
			Roots:     pool,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		assert.NoError(t, err, name)
	}

	// The key on disk belongs to the certificate.
	_, err = tls.LoadX509KeyPair(certFile, keyFile)
	assert.NoError(t, err)
}

func TestSPKIHash(t *testing.T) {
	certFile, keyFile, err := testCertificate(t.TempDir())
	require.NoError(t, err)
	got, err := SPKIHash(certFile)
	require.NoError(t, err)

	// Computed independently from the private key's public half.
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	spki, err := x509.MarshalPKIXPublicKey(pair.Leaf.PublicKey)
	require.NoError(t, err)
	sum := sha256.Sum256(spki)
	assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), got)
	assert.Len(t, got, 44)

	_, err = SPKIHash(filepath.Join(t.TempDir(), "missing.crt"))
	assert.Error(t, err)
}

func TestCertificateRegenerated(t *testing.T) {
	tests := []struct {
		name   string
		spoil  func(t *testing.T, certFile, keyFile string)
		reason string
	}{
		{
			name: "expired",
			spoil: func(t *testing.T, certFile, keyFile string) {
				_, err := writeCertificate(certFile, keyFile, time.Now().AddDate(-2, 0, 0))
				require.NoError(t, err)
			},
			reason: "expired on",
		},
		{
			name: "about to expire",
			spoil: func(t *testing.T, certFile, keyFile string) {
				_, err := writeCertificate(certFile, keyFile, time.Now().Add(-certificateLifetime+time.Hour))
				require.NoError(t, err)
			},
			reason: "expires on",
		},
		{
			name: "garbage certificate",
			spoil: func(t *testing.T, certFile, _ string) {
				require.NoError(t, os.WriteFile(certFile, []byte("not a certificate"), 0o644))
			},
			reason: "unreadable",
		},
		{
			name: "key of another pair",
			spoil: func(t *testing.T, _, keyFile string) {
				other := t.TempDir()
				_, err := writeCertificate(filepath.Join(other, "c"), keyFile, time.Now())
				require.NoError(t, err)
			},
			reason: "unreadable",
		},
		{
			name: "key missing",
			spoil: func(t *testing.T, _, keyFile string) {
				require.NoError(t, os.Remove(keyFile))
			},
			reason: "no certificate yet",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile, err := testCertificate(dir)
			require.NoError(t, err)
			tt.spoil(t, certFile, keyFile)
			spoilt, _ := os.ReadFile(certFile)

			status, err := LoadOrCreateCertificate(dir)
			require.NoError(t, err)
			assert.True(t, status.Generated)
			assert.Contains(t, status.Reason, tt.reason)
			fresh, err := os.ReadFile(certFile)
			require.NoError(t, err)
			assert.NotEqual(t, spoilt, fresh)
			_, err = tls.LoadX509KeyPair(certFile, keyFile)
			assert.NoError(t, err)
			assert.True(t, status.NotAfter.After(time.Now().Add(300*24*time.Hour)))
		})
	}
}

func TestCertPoolRejectsNonCertificate(t *testing.T) {
	name := filepath.Join(t.TempDir(), "x.crt")
	require.NoError(t, os.WriteFile(name, []byte("-----BEGIN JUNK-----\nAAAA\n-----END JUNK-----\n"), 0o644))
	_, err := CertPool(name)
	assert.Error(t, err)
}

func TestDefaultStateDir(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("XDG_STATE_HOME applies to XDG platforms")
	}
	base := t.TempDir()
	t.Setenv("XDG_STATE_HOME", base)
	dir, err := DefaultStateDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(base, "oauthtrio"), dir)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, info.IsDir())
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())

	// A relative XDG_STATE_HOME is invalid and falls back to the home
	// directory.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "relative")
	dir, err = DefaultStateDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(home, ".local", "state", "oauthtrio"), dir)
}

// testCertificate is the pair LoadOrCreateCertificate keeps in dir.
func testCertificate(dir string) (certFile, keyFile string, err error) {
	status, err := LoadOrCreateCertificate(dir)
	return status.CertFile, status.KeyFile, err
}
