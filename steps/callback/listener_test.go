package callback

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedirectListenerQueryAndFormPost(t *testing.T) {
	l, err := Listen(Options{})
	require.NoError(t, err)
	defer l.Close()
	assert.True(t, strings.HasPrefix(l.URL(), "http://127.0.0.1:"))
	assert.True(t, strings.HasSuffix(l.URL(), "/cb"))

	go func() {
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get(l.URL() + "?code=abc&state=s1&iss=https%3A%2F%2Fidp")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cb, err := l.WaitFor(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, "abc", cb.Params.Get("code"))
	assert.Equal(t, "https://idp", cb.Params.Get("iss"))
	assert.Equal(t, "query", cb.ResponseMode)

	resp, err := http.PostForm(l.URL(), url.Values{"code": {"def"}, "state": {"s2"}})
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), "oauthtrio received the authorization response")
	cb, err = l.WaitFor(ctx, "s2")
	require.NoError(t, err)
	assert.Equal(t, "form_post", cb.ResponseMode)
	assert.Equal(t, "def", cb.Params.Get("code"))

	// The page posts a fragment back.
	resp, err = http.Post(l.URL()+fragmentSuffix, "text/plain", strings.NewReader("access_token=t&state=s3"))
	require.NoError(t, err)
	resp.Body.Close()
	cb, err = l.WaitFor(ctx, "s3")
	require.NoError(t, err)
	assert.Equal(t, "fragment", cb.ResponseMode)
	assert.Equal(t, "/cb", cb.Path)

	// Other paths under the redirect path are recorded too; others are not.
	resp, err = http.Get(l.URL() + "/unregistered?state=s4&code=x")
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = http.Get(strings.TrimSuffix(l.URL(), "/cb") + "/favicon.ico")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	cb, err = l.WaitFor(ctx, "s4")
	require.NoError(t, err)
	assert.Equal(t, "/cb/unregistered", cb.Path)
	assert.Len(t, l.Callbacks(), 4)

	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	_, err = l.WaitFor(short, "never")
	require.ErrorContains(t, err, `no authorization response with state "never"`)
}

func TestRedirectListenerFixedHTTPSPort(t *testing.T) {
	// Find a free port, then ask for exactly that one, as a client whose
	// redirect URI is fixed would.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()

	redirect := "https://localhost:" + strconv.Itoa(port) + "/oauth/callback"
	opts, err := OptionsFor(redirect)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(port), opts.Addr)
	assert.True(t, opts.TLS)
	l, err := Listen(opts)
	require.NoError(t, err)
	defer l.Close()
	assert.Equal(t, redirect, l.URL())
	require.NotNil(t, l.Certificate())

	pool := x509.NewCertPool()
	pool.AddCert(l.Certificate())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(redirect + "?code=c&state=tls")
	require.NoError(t, err)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cb, err := l.WaitFor(ctx, "tls")
	require.NoError(t, err)
	assert.Equal(t, "c", cb.Params.Get("code"))

	_, err = OptionsFor("https://app.example.org/cb")
	require.ErrorContains(t, err, "only listen on this machine")
	_, err = OptionsFor("com.example.app:/cb")
	require.Error(t, err)
}
