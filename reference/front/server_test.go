package front

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a log sink the server goroutines and the test can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// echo answers with the route's name and the path and query it received.
func echo(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s?%s", name, r.URL.Path, r.URL.RawQuery)
	})
}

type testFront struct {
	server *Server
	client *http.Client
	log    *syncBuffer
	base   string // https://127.0.0.1:port, for requests
}

// startFront serves the three workshop prefixes plus extra routes on a free
// loopback port, stopped at the end of the test.
func startFront(t *testing.T, extra ...Route) *testFront {
	t.Helper()
	certFile, keyFile, err := testCertificate(t.TempDir())
	require.NoError(t, err)
	log := &syncBuffer{}
	routes := append([]Route{
		{Prefix: "/authserver", Name: "authorization server", Handler: echo("authserver"), Links: []Link{
			{Label: "issuer", Path: "/authserver/oauth2"},
			{Label: "discovery", Path: "/authserver/oauth2/.well-known/openid-configuration"},
		}},
		{Prefix: "/resserver", Name: "resource server", Handler: echo("resserver"), Links: []Link{
			{Label: "protected resource", Path: "/resserver/protected-resources/"},
		}},
		{Prefix: "/client/", Name: "client", Handler: echo("client")},
	}, extra...)
	s, err := New(Config{
		Addr:     "127.0.0.1:0",
		CertFile: certFile,
		KeyFile:  keyFile,
		Routes:   routes,
		Logger:   slog.New(slog.NewJSONHandler(log, nil)),
	})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, s.Shutdown(ctx))
	})

	pool, err := CertPool(certFile)
	require.NoError(t, err)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{
		Transport: transport,
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return &testFront{server: s, client: client, log: log, base: "https://" + s.Addr()}
}

func (f *testFront) do(t *testing.T, method, path string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, f.base+path, body)
	require.NoError(t, err)
	resp, err := f.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(data)
}

func assertJSONError(t *testing.T, resp *http.Response, body string, status int, code string) {
	t.Helper()
	assert.Equal(t, status, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	assert.Equal(t, map[string]any{"error": code}, got)
}

// assertRedirect accepts the permanent or temporary redirect http.ServeMux
// sends; the status has changed between Go releases.
func assertRedirect(t *testing.T, status int) {
	t.Helper()
	assert.Contains(t, []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect}, status)
}

func TestRoutingByPrefix(t *testing.T) {
	f := startFront(t)
	tests := []struct {
		path string
		want string
	}{
		{"/authserver/oauth2/authorize?client_id=c", "authserver /authserver/oauth2/authorize?client_id=c"},
		{"/authserver/", "authserver /authserver/?"},
		{"/resserver/protected-resources/", "resserver /resserver/protected-resources/?"},
		{"/client/application/", "client /client/application/?"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := f.do(t, http.MethodGet, tt.path, nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tt.want, body)
		})
	}

	for _, path := range []string{"/authserverX", "/authserverX/oauth2", "/nope", "/favicon.ico", "/client2/"} {
		t.Run("not found "+path, func(t *testing.T) {
			resp, body := f.do(t, http.MethodGet, path, nil)
			assertJSONError(t, resp, body, http.StatusNotFound, "not_found")
		})
	}

	t.Run("bare prefix redirects", func(t *testing.T) {
		resp, _ := f.do(t, http.MethodGet, "/authserver", nil)
		assertRedirect(t, resp.StatusCode)
		assert.Equal(t, "/authserver/", resp.Header.Get("Location"))
	})

	t.Run("unclean path does not reach another route", func(t *testing.T) {
		resp, _ := f.do(t, http.MethodGet, "/client/../authserver/oauth2/token", nil)
		assertRedirect(t, resp.StatusCode)
		assert.Equal(t, "/authserver/oauth2/token", resp.Header.Get("Location"))
	})
}

func TestIndexPage(t *testing.T) {
	f := startFront(t)
	resp, body := f.do(t, http.MethodGet, "/", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	for _, want := range []string{
		`<a href="/authserver/">authorization server</a>`,
		`<a href="/authserver/oauth2/.well-known/openid-configuration">discovery</a>`,
		`<a href="/resserver/">resource server</a>`,
		`<a href="/client/">client</a>`,
	} {
		assert.Contains(t, body, want)
	}

	resp, body = f.do(t, http.MethodPost, "/", nil)
	assertJSONError(t, resp, body, http.StatusMethodNotAllowed, "method_not_allowed")
}

func TestPanicAnswersServerError(t *testing.T) {
	f := startFront(t, Route{Prefix: "/boom", Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("kaboom")
	})})

	resp, body := f.do(t, http.MethodGet, "/boom/now?code=secret", nil)
	assertJSONError(t, resp, body, http.StatusInternalServerError, "server_error")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))

	// The server keeps serving.
	resp, body = f.do(t, http.MethodGet, "/client/application/", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "client /client/application/?", body)

	logs := f.log.String()
	assert.Contains(t, logs, `"msg":"handler panic"`)
	assert.Contains(t, logs, `"panic":"kaboom"`)
	assert.Contains(t, logs, `"path":"/boom/now"`)
	assert.Contains(t, logs, `"method":"GET"`)
	assert.NotContains(t, logs, "secret")
}

func TestOversizeBodyRejected(t *testing.T) {
	var (
		mu      sync.Mutex
		seenMax int64
	)
	f := startFront(t, Route{Prefix: "/upload", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			mu.Lock()
			seenMax = tooBig.Limit
			mu.Unlock()
			writeJSONError(w, http.StatusRequestEntityTooLarge, "invalid_request")
			return
		}
		assert.NoError(t, err)
		fmt.Fprint(w, len(data))
	})})

	resp, body := f.do(t, http.MethodPost, "/upload/", bytes.NewReader(make([]byte, DefaultMaxBodyBytes)))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, fmt.Sprint(DefaultMaxBodyBytes), body)

	resp, body = f.do(t, http.MethodPost, "/upload/", bytes.NewReader(make([]byte, DefaultMaxBodyBytes+1)))
	assertJSONError(t, resp, body, http.StatusRequestEntityTooLarge, "invalid_request")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, int64(DefaultMaxBodyBytes), seenMax)
}

func TestSecurityHeaders(t *testing.T) {
	f := startFront(t)
	want := map[string]string{
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"X-Frame-Options":           "DENY",
		"Content-Security-Policy":   "frame-ancestors 'none'",
		"Strict-Transport-Security": "max-age=3600",
	}
	for _, path := range []string{"/", "/authserver/oauth2/token", "/nope"} {
		resp, _ := f.do(t, http.MethodGet, path, nil)
		for name, value := range want {
			assert.Equal(t, value, resp.Header.Get(name), "%s on %s", name, path)
		}
	}
}

func TestAccessLogLeavesOutQueryAndHeaders(t *testing.T) {
	f := startFront(t)
	req, err := http.NewRequest(http.MethodGet, f.base+"/client/callback?code=SECRETCODE&state=SECRETSTATE", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer SECRETTOKEN")
	resp, err := f.client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	// Shutdown waits for the handler chain, so the line is written.
	require.NoError(t, f.server.Shutdown(context.Background()))
	logs := f.log.String()

	var line map[string]any
	for l := range strings.Lines(logs) {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &entry))
		if entry["msg"] == "request" {
			line = entry
		}
	}
	require.NotNil(t, line, logs)
	assert.Equal(t, "GET", line["method"])
	assert.Equal(t, "/client/callback", line["path"])
	assert.EqualValues(t, 200, line["status"])
	assert.Contains(t, line, "duration")
	assert.NotContains(t, logs, "SECRET")
	assert.NotContains(t, logs, "code=")
	assert.NotContains(t, logs, "Authorization")
}

func TestClientTrustsFrontAsLocalhost(t *testing.T) {
	f := startFront(t)
	_, port, err := net.SplitHostPort(f.server.Addr())
	require.NoError(t, err)
	assert.NotEqual(t, "0", port)
	assert.Equal(t, "https://localhost:"+port, f.server.URL())

	// Through the public URL itself, so the name is verified as a browser
	// would verify it.
	resp, err := f.client.Get(f.server.URL() + "/resserver/protected-resources/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.GreaterOrEqual(t, resp.TLS.Version, uint16(tls.VersionTLS12))

	// Without the pool the certificate is not trusted.
	plain := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	_, err = plain.Get(f.server.URL() + "/")
	var unknown x509.UnknownAuthorityError
	assert.True(t, errors.As(err, &unknown), "got %v", err)

	// TLS 1.1 is refused.
	old := &tls.Config{RootCAs: f.client.Transport.(*http.Transport).TLSClientConfig.RootCAs, ServerName: "localhost", MaxVersion: tls.VersionTLS11}
	conn, err := tls.Dial("tcp", f.server.Addr(), old)
	if err == nil {
		conn.Close()
	}
	assert.Error(t, err)
}

func TestPublicURLDefault(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1:8443", "https://localhost:8443"},
		{":8443", "https://localhost:8443"},
		{"[::1]:9000", "https://localhost:9000"},
		{"127.0.0.1:443", "https://localhost"},
		{"not an address", "https://localhost"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, PublicURLDefault(tt.addr), tt.addr)
	}
}

func TestPublicURLAsGiven(t *testing.T) {
	certFile, keyFile, err := testCertificate(t.TempDir())
	require.NoError(t, err)
	tests := []struct {
		publicURL string
		want      string
	}{
		{"https://webserver", "https://webserver"},
		{"https://webserver/", "https://webserver"},
		{"https://webserver:443", "https://webserver"},
		{"HTTPS://WebServer:8443", "https://webserver:8443"},
		{"https://[::1]:443", "https://[::1]"},
	}
	for _, tt := range tests {
		s, err := New(Config{
			Addr:      "127.0.0.1:443",
			PublicURL: tt.publicURL,
			CertFile:  certFile,
			KeyFile:   keyFile,
			Routes: []Route{{Prefix: "/authserver", Name: "authorization server", Handler: echo("a"), Links: []Link{
				{Label: "issuer", Path: "/authserver/oauth2"},
			}}},
		})
		require.NoError(t, err, tt.publicURL)
		assert.Equal(t, tt.want, s.URL(), tt.publicURL)
		var banner bytes.Buffer
		s.Banner(&banner)
		assert.Contains(t, banner.String(), tt.want+"/authserver/oauth2\n", tt.publicURL)
	}

	for _, bad := range []string{"ftp://webserver", "https://", "https://webserver/base", "https://webserver?x=1", "https://u:p@webserver"} {
		_, err := New(Config{PublicURL: bad, CertFile: certFile, KeyFile: keyFile})
		assert.Error(t, err, bad)
	}
}

func TestBanner(t *testing.T) {
	f := startFront(t)
	spki, err := SPKIHash(f.server.cfg.CertFile)
	require.NoError(t, err)
	u := f.server.URL()
	want := fmt.Sprintf(`oauthtrio is serving on %[1]s (listening on %[2]s)
  issuer              %[1]s/authserver/oauth2
  discovery           %[1]s/authserver/oauth2/.well-known/openid-configuration
  protected resource  %[1]s/resserver/protected-resources/
  client              %[1]s/client/
  certificate         %[3]s  (SPKI sha256: %[4]s)
`, u, f.server.Addr(), f.server.cfg.CertFile, spki)
	var got bytes.Buffer
	f.server.Banner(&got)
	assert.Equal(t, want, got.String())
}

func TestNewRejectsBadConfig(t *testing.T) {
	certFile, keyFile, err := testCertificate(t.TempDir())
	require.NoError(t, err)
	h := echo("x")
	tests := []struct {
		name   string
		config Config
	}{
		{"no certificate", Config{}},
		{"missing certificate", Config{CertFile: certFile + ".missing", KeyFile: keyFile}},
		{"relative prefix", Config{Routes: []Route{{Prefix: "authserver", Handler: h}}}},
		{"root prefix", Config{Routes: []Route{{Prefix: "/", Handler: h}}}},
		{"wildcard prefix", Config{Routes: []Route{{Prefix: "/{id}", Handler: h}}}},
		{"duplicate prefix", Config{Routes: []Route{{Prefix: "/client", Handler: h}, {Prefix: "/client/", Handler: h}}}},
		{"no handler", Config{Routes: []Route{{Prefix: "/client"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "no certificate" && tt.config.CertFile == "" {
				tt.config.CertFile, tt.config.KeyFile = certFile, keyFile
			}
			_, err := New(tt.config)
			assert.Error(t, err)
		})
	}
}

func TestStartTwiceAndShutdownBeforeStart(t *testing.T) {
	certFile, keyFile, err := testCertificate(t.TempDir())
	require.NoError(t, err)
	s, err := New(Config{Addr: "127.0.0.1:0", CertFile: certFile, KeyFile: keyFile})
	require.NoError(t, err)
	assert.Nil(t, s.Done())
	assert.NoError(t, s.Shutdown(context.Background()))
	require.NoError(t, s.Start())
	assert.Error(t, s.Start())
	require.NoError(t, s.Shutdown(context.Background()))
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Shutdown")
	}
	assert.NoError(t, s.Shutdown(context.Background()))
}

// TestTLSPolicy is BCP 195 (RFC 9325 §4.1, §4.2): TLS 1.2 only with
// forward-secret AEAD suites, TLS 1.0 and 1.1 refused, TLS 1.3 offered.
func TestTLSPolicy(t *testing.T) {
	f := startFront(t)
	roots := f.client.Transport.(*http.Transport).TLSClientConfig.RootCAs
	tests := []struct {
		name     string
		min, max uint16
		suites   []uint16
		ok       bool
	}{
		{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, nil, true},
		{"TLS 1.2 AES-GCM", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, true},
		{"TLS 1.2 ChaCha20-Poly1305", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}, true},
		{"TLS 1.2 CBC", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}, false},
		{"TLS 1.2 static RSA GCM", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}, false},
		{"TLS 1.1", tls.VersionTLS10, tls.VersionTLS11, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", f.server.Addr(), &tls.Config{
				RootCAs: roots, ServerName: "localhost", MinVersion: tt.min, MaxVersion: tt.max, CipherSuites: tt.suites,
			})
			if err == nil {
				conn.Close()
			}
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}
