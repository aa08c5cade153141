package authserver

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ory/fosite"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkClientCredentials measures the Postman collection's request:
// client credentials with HTTP Basic, the secret stored at SecretCost and
// verified through SecretHasher's cache.
func BenchmarkClientCredentials(b *testing.B) {
	benchmarkClientCredentials(b, nil)
}

// BenchmarkClientCredentialsUncachedSecret is the same request with a
// hasher that runs bcrypt on every call, which is what the cache saves.
func BenchmarkClientCredentialsUncachedSecret(b *testing.B) {
	benchmarkClientCredentials(b, func(s *Server) {
		cfg := s.provider.(*fosite.Fosite).Config.(*fosite.Config)
		cfg.ClientSecretsHasher = uncachedHasher{}
	})
}

// uncachedHasher is plain bcrypt over the same prehash as SecretHasher.
type uncachedHasher struct{}

func (uncachedHasher) Compare(_ context.Context, hash, secret []byte) error {
	return bcrypt.CompareHashAndPassword(hash, prehash(secret))
}

func (uncachedHasher) Hash(_ context.Context, secret []byte) ([]byte, error) {
	return bcrypt.GenerateFromPassword(prehash(secret), SecretCost)
}

func benchmarkClientCredentials(b *testing.B, adjust func(*Server)) {
	h := newHarnessStarting(b, nil, HashSecret, adjust)
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}}.Encode()
	transport := h.srv.Client().Transport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 16
	client := &http.Client{Transport: transport}
	b.Cleanup(transport.CloseIdleConnections)
	tokenURL := h.url("token")

	b.SetParallelism(2) // two requests in flight per core: one waits while the other runs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(postmanID), url.QueryEscape(postmanSecret))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
