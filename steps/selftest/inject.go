// Package selftest proves that the suite catches broken servers: it runs
// the suite against variants of the reference trio, each with one fault
// put in through the trio's own extension points — hooks, storage
// wrappers, HTTP middleware and configuration.
package selftest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/trio"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
)

// broken collects the injections of one fault.
type broken struct {
	opts *reference.Options
	trio *trio.Trio // set once the trio runs
}

func newBroken() *broken {
	b := &broken{opts: &reference.Options{}}
	b.opts.Setup = func(_ context.Context, t *trio.Trio) error {
		b.trio = t
		return nil
	}
	return b
}

// middleware adds an HTTP middleware in front of one part of the trio
// ("authserver", "resserver" or "client").
func (b *broken) middleware(part string, mw func(http.Handler) http.Handler) {
	prev := b.opts.Trio.Wrap
	b.opts.Trio.Wrap = func(p string, h http.Handler) http.Handler {
		if prev != nil {
			h = prev(p, h)
		}
		if p == part {
			h = mw(h)
		}
		return h
	}
}

// storage wraps the authorization server's storage.
func (b *broken) storage(wrap func(authserver.Storage) authserver.Storage) {
	prev := b.opts.Trio.WrapStorage
	b.opts.Trio.WrapStorage = func(s authserver.Storage) authserver.Storage {
		if prev != nil {
			s = prev(s)
		}
		return wrap(s)
	}
}

// endpoint tells whether a request is for the authorization server
// endpoint named (the last path segment, e.g. "token").
func endpoint(r *http.Request, name string) bool {
	return strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/"+name)
}

// captured is a response held back so a fault can change it.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
	keep   []string // Set-Cookie values to pass on
}

func (c *captured) Header() http.Header { return c.header }
func (c *captured) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(p)
}
func (c *captured) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

// rewrite lets edit change the answer to the requests match selects.
func rewrite(match func(*http.Request) bool, edit func(r *http.Request, c *captured)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			c := &captured{header: http.Header{}}
			next.ServeHTTP(c, r)
			if c.status == 0 {
				c.status = http.StatusOK
			}
			edit(r, c)
			for k, v := range c.header {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(c.status)
			_, _ = w.Write(c.body.Bytes())
		})
	}
}

// editJSON changes a JSON object body in place; other bodies stay.
func editJSON(c *captured, f func(map[string]any)) {
	var m map[string]any
	if json.Unmarshal(c.body.Bytes(), &m) != nil {
		return
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		return
	}
	c.body.Reset()
	c.body.Write(out)
}

// editLocation changes the query of a redirect's Location.
func editLocation(c *captured, f func(url.Values)) {
	loc := c.header.Get("Location")
	if loc == "" {
		return
	}
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	q := u.Query()
	f(q)
	u.RawQuery = q.Encode()
	c.header.Set("Location", u.String())
}

// editRequest changes a request before the server sees it.
func editRequest(match func(*http.Request) bool, edit func(r *http.Request)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if match(r) {
				edit(r)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// setForm replaces a request's form body or query after editing it.
func setForm(r *http.Request, f func(url.Values)) {
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		f(r.PostForm)
		f(r.Form)
		body := r.PostForm.Encode()
		r.Body = http.NoBody
		if body != "" {
			r.Body = readCloser(body)
		}
		r.ContentLength = int64(len(body))
		// Parsed again by the server from the new body.
		r.PostForm, r.Form = nil, nil
		return
	}
	q := r.URL.Query()
	f(q)
	r.URL.RawQuery = q.Encode()
}

type stringBody struct{ *strings.Reader }

func (stringBody) Close() error { return nil }

func readCloser(s string) stringBody { return stringBody{strings.NewReader(s)} }

// ctxKey carries values from a middleware to a storage wrapper through
// the request's context, which fosite passes to the storage.
type ctxKey string

func stash(key ctxKey, value func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if v := value(r); v != "" {
				r = r.WithContext(context.WithValue(r.Context(), key, v))
			}
			next.ServeHTTP(w, r)
		})
	}
}

func stashed(ctx context.Context, key ctxKey) string {
	v, _ := ctx.Value(key).(string)
	return v
}
