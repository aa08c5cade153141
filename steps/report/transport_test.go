package report

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer answers with the body it received.
func echoServer(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		io.Copy(w, r.Body)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// closeRecorder is a request body that remembers being closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestTransportLeavesTheRequestAlone(t *testing.T) {
	const form = "grant_type=client_credentials&client_secret=" + clientSecret
	ts := echoServer(t)
	tests := []struct {
		name string
		body func() io.ReadCloser // nil: no body
		// getBody says whether the request can give its body again.
		getBody bool
	}{
		{name: "body with GetBody", body: func() io.ReadCloser { return io.NopCloser(strings.NewReader(form)) }, getBody: true},
		{name: "body without GetBody", body: func() io.ReadCloser { return &closeRecorder{Reader: strings.NewReader(form)} }},
		{name: "no body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New("t", "")
			r.AddSecrets(clientSecret)
			s := r.Start("s", "f", nil)
			req, err := http.NewRequestWithContext(WithScenario(context.Background(), s), http.MethodPost, ts.URL+"/token", nil)
			require.NoError(t, err)
			want := ""
			if tt.body != nil {
				req.Body, want = tt.body(), form
				if tt.getBody {
					req.GetBody = func() (io.ReadCloser, error) { return tt.body(), nil }
				}
				req.ContentLength = int64(len(form))
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			body, header, url, getBody := req.Body, req.Header.Clone(), req.URL.String(), req.GetBody != nil

			resp, err := (&Transport{}).RoundTrip(req)
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()

			assert.Equal(t, want, string(got), "the server reads the whole body")
			assert.True(t, body == req.Body, "the caller's body is not replaced")
			assert.Equal(t, getBody, req.GetBody != nil, "the caller's GetBody is not replaced")
			assert.Equal(t, header, req.Header, "the caller's headers are not changed")
			assert.Equal(t, url, req.URL.String())
			if c, ok := body.(*closeRecorder); ok {
				assert.True(t, c.closed, "the transport closes the body it consumed")
			}

			ex := s.Record().Exchanges
			require.Len(t, ex, 1)
			assert.Equal(t, http.StatusOK, ex[0].Status)
			if want != "" {
				assert.Equal(t, "grant_type=client_credentials&client_secret=[redacted]", ex[0].RequestBody, "the request body is recorded, redacted")
				assert.Equal(t, "grant_type=client_credentials&client_secret=[redacted]", ex[0].ResponseBody, "the response body is recorded, redacted")
			}
		})
	}
}

// failingReader gives some bytes, then an error.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestTransportReturnsReadErrors(t *testing.T) {
	broken := errors.New("connection reset")

	t.Run("request body", func(t *testing.T) {
		s := New("t", "").Start("s", "f", nil)
		body := &closeRecorder{Reader: &failingReader{data: "grant_type=", err: broken}}
		req, err := http.NewRequestWithContext(WithScenario(context.Background(), s), http.MethodPost, "http://127.0.0.1:1/token", body)
		require.NoError(t, err)
		sent := false
		_, err = (&Transport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
			sent = true
			return nil, errors.New("unreachable")
		})}).RoundTrip(req)
		require.ErrorIs(t, err, broken)
		assert.False(t, sent, "a request whose body cannot be read is not sent")
		assert.True(t, body.closed, "the body is closed on errors too")
	})

	t.Run("response body", func(t *testing.T) {
		s := New("t", "").Start("s", "f", nil)
		req, err := http.NewRequestWithContext(WithScenario(context.Background(), s), http.MethodGet, "http://127.0.0.1:1/userinfo", nil)
		require.NoError(t, err)
		resp, err := (&Transport{Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(&failingReader{data: `{"sub":`, err: broken})}, nil
		})}).RoundTrip(req)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		assert.Equal(t, `{"sub":`, string(got), "the caller gets what was read")
		require.ErrorIs(t, err, broken, "then the error that stopped the reading")
		ex := s.Record().Exchanges
		require.Len(t, ex, 1)
		assert.Contains(t, ex[0].Error, "connection reset")
	})
}

func TestTransportWithoutScenario(t *testing.T) {
	ts := echoServer(t)
	req, err := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader("a=b"))
	require.NoError(t, err)
	resp, err := (&Transport{}).RoundTrip(req)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "a=b", string(got))
}
