package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

const redacted = "[redacted]"

// secretParams never appear, not even in part.
var secretParams = map[string]bool{
	"client_secret": true, "password": true, "code_verifier": true, "client_assertion": true,
	"initial_access_token": true, "secret": true,
}

// tokenParams appear shortened: enough to tell two tokens apart in a
// report, not enough to use one.
var tokenParams = map[string]bool{
	"access_token": true, "refresh_token": true, "id_token": true, "token": true, "code": true,
	"assertion": true, "logout_token": true, "subject_token": true, "actor_token": true,
	"device_code": true, "registration_access_token": true, "id_token_hint": true, "request": true,
	"login_hint_token": true,
}

// shorten keeps the first characters of a token and its length.
func shorten(v string) string {
	if len(v) <= 8 {
		return "…(" + fmt.Sprint(len(v)) + " chars)"
	}
	return v[:6] + "…(" + fmt.Sprint(len(v)) + " chars)"
}

func redactParam(name, value string) string {
	n := strings.ToLower(name)
	switch {
	case secretParams[n]:
		return redacted
	case tokenParams[n]:
		return shorten(value)
	}
	return value
}

// redactPairs redacts an application/x-www-form-urlencoded string pair by
// pair, keeping the order and the encoding of what it leaves alone; the
// markers it puts in stay unescaped so a reader can see them.
func redactPairs(raw string) string {
	pairs := strings.Split(raw, "&")
	for i, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			value = v
		}
		if r := redactParam(name, value); r != value {
			pairs[i] = k + "=" + r
		}
	}
	return strings.Join(pairs, "&")
}

// RedactURL redacts a URL's query and fragment parameters and drops any
// password in it.
func RedactURL(raw string) string {
	rest, frag, hasFrag := strings.Cut(raw, "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	if u, err := url.Parse(base); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		base = u.String()
	}
	out := base
	if hasQuery {
		out += "?" + redactPairs(query)
	}
	if hasFrag {
		out += "#" + redactPairs(frag)
	}
	return out
}

// redactHeaders redacts credentials: Authorization keeps its scheme (and a
// Basic client id), cookies keep their names.
func redactHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		for _, v := range vs {
			switch ck {
			case "Authorization", "Proxy-Authorization":
				v = redactAuthorization(v)
			case "Cookie":
				v = redactCookies(v, "; ")
			case "Set-Cookie":
				name, rest, _ := strings.Cut(v, "=")
				_, attrs, _ := strings.Cut(rest, ";")
				v = name + "=" + redacted
				if attrs != "" {
					v += ";" + attrs
				}
			case "Dpop", "X-Api-Key", "X-Auth-Token":
				v = shorten(v)
			}
			out[ck] = append(out[ck], v)
		}
	}
	return out
}

func redactAuthorization(v string) string {
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return redacted
	}
	switch strings.ToLower(scheme) {
	case "basic":
		if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
			if id, _, ok := strings.Cut(string(raw), ":"); ok {
				// RFC 6749 §2.3.1: the id is form-encoded inside Basic.
				if u, err := url.QueryUnescape(id); err == nil {
					id = u
				}
				return "Basic " + id + ":" + redacted
			}
		}
		return "Basic " + redacted
	case "bearer", "dpop":
		return scheme + " " + shorten(strings.TrimSpace(cred))
	}
	return scheme + " " + redacted
}

func redactCookies(v, sep string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		name, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[i] = name + "=" + redacted
	}
	return strings.Join(parts, sep)
}

// redactBody redacts a form or JSON body by member name; other bodies pass
// as they are (the report's secret list still applies).
func redactBody(contentType string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return redactPairs(string(body))
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || (mt == "" && json.Valid(body)):
		var v any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil {
			v = redactJSON(v)
			if out, err := json.MarshalIndent(v, "", "  "); err == nil {
				return string(out)
			}
		}
	case mt == "application/jwt" || mt == "application/token-introspection+jwt":
		return shorten(strings.TrimSpace(string(body)))
	}
	return string(body)
}

func redactJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok {
				t[k] = redactParam(k, s)
				continue
			}
			t[k] = redactJSON(val)
		}
	case []any:
		for i := range t {
			t[i] = redactJSON(t[i])
		}
	}
	return v
}

// truncate cuts a body to max bytes, on a rune boundary, saying how much
// was left out.
func truncate(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("\n… [%d more bytes]", len(s)-cut)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func (r *Report) redactExchange(e Exchange) Exchange {
	max := r.MaxBodyBytes
	e.URL = r.scrub(RedactURL(e.URL))
	e.RequestHeaders = r.scrubHeaders(redactHeaders(e.RequestHeaders))
	e.ResponseHeaders = r.scrubHeaders(redactHeaders(e.ResponseHeaders))
	e.RequestBody = truncate(r.scrub(redactBody(e.RequestHeaders.Get("Content-Type"), []byte(e.RequestBody))), max)
	e.ResponseBody = truncate(r.scrub(redactBody(e.ResponseHeaders.Get("Content-Type"), []byte(e.ResponseBody))), max)
	e.Error = r.scrub(e.Error)
	return e
}

func (r *Report) scrubHeaders(h http.Header) http.Header {
	for k, vs := range h {
		for i := range vs {
			vs[i] = r.scrub(vs[i])
		}
		h[k] = vs
	}
	return h
}

type scenarioKey struct{}

// WithScenario returns a context carrying the scenario, for Transport and
// for step code (godog's hooks set it; see Attach).
func WithScenario(ctx context.Context, s *Scenario) context.Context {
	return context.WithValue(ctx, scenarioKey{}, s)
}

// FromContext returns the scenario the context carries, or nil.
func FromContext(ctx context.Context) *Scenario {
	s, _ := ctx.Value(scenarioKey{}).(*Scenario)
	return s
}

// sortedHeaderNames lists header names in a stable order for the outputs.
func sortedHeaderNames(h http.Header) []string {
	return slices.Sorted(maps.Keys(h))
}
