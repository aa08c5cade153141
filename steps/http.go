package steps

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// response is the last HTTP answer a scenario received; the generic
// "the response ..." steps assert on it.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any // nil when the body is not a JSON object
}

func (r *response) String() string {
	if r == nil {
		return "no response"
	}
	b := string(r.body)
	if len(b) > 300 {
		b = b[:300] + "…"
	}
	return fmt.Sprintf("HTTP %d %s", r.status, b)
}

// do sends a request and reads the whole answer.
func (s *scenario) do(req *http.Request) (*response, error) {
	resp, err := s.run.http.Do(req.WithContext(s.ctx))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the body: %w", req.Method, req.URL.Redacted(), err)
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: body}
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		r.json = obj
	}
	s.resp = r
	return r, nil
}

func (s *scenario) get(u string, header http.Header) (*response, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return s.do(req)
}

// postForm sends an application/x-www-form-urlencoded POST, authenticated
// as client (nil: no client authentication).
func (s *scenario) postForm(u string, form url.Values, client *issuer.Client, header http.Header) (*response, error) {
	form = cloneValues(form)
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if client != nil {
		authenticate(req, form, client)
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return s.do(req)
}

// authenticate adds the client's credentials the way its auth method says.
// RFC 6749 §2.3.1: HTTP Basic credentials are form-encoded first.
func authenticate(req *http.Request, form url.Values, c *issuer.Client) {
	switch c.AuthMethod {
	case issuer.AuthClientSecretPost:
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	case issuer.AuthNone:
		form.Set("client_id", c.ID)
	default:
		cred := url.QueryEscape(c.ID) + ":" + url.QueryEscape(c.Secret)
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	}
}

// cloneValues copies v deeply, so Add on the copy cannot reach the
// caller's slices.
func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
