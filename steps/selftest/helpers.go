package selftest

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// lazyUsers reads users from the trio's store once it runs, so hooks can
// be built before the trio starts.
type lazyUsers struct{ b *broken }

func (u lazyUsers) GetUser(ctx context.Context, username string) (*store.User, error) {
	return u.b.trio.Store.GetUser(ctx, username)
}

// anyPassword accepts a known user whatever the password.
type anyPassword struct{ base authserver.UserValidator }

func (a anyPassword) ValidateUser(ctx context.Context, cred authserver.Credentials, auth *authserver.Authorization) (*authserver.Identity, error) {
	if id, err := a.base.ValidateUser(ctx, cred, auth); err == nil {
		return id, nil
	}
	cred.Authenticated = true
	return a.base.ValidateUser(ctx, cred, auth)
}

// acceptAt answers 200 to the requests match selects, in place of the
// resource server.
func acceptAt(match func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"message":"accepted"}`))
		})
	}
}

var (
	consentForm = regexp.MustCompile(`<form id="consent-form" method="post" action="([^"]+)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// autoApprove builds the request that approves the consent page c shows,
// as if the user had clicked; nil when c is no consent page.
func autoApprove(r *http.Request, c *captured) *http.Request {
	body := c.body.String()
	m := consentForm.FindStringSubmatch(body)
	if m == nil {
		return nil
	}
	form := url.Values{"decision": {"approve"}}
	for _, in := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Set(in[1], unescapeHTML(in[2]))
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, unescapeHTML(m[1]), strings.NewReader(form.Encode()))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The browser's cookies, with those the page itself has just set.
	cookies := append(r.Cookies(), (&http.Response{Header: c.header}).Cookies()...)
	for _, ck := range cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	// Keep the cookies set on the way for the browser.
	c.keep = c.header.Values("Set-Cookie")
	return req
}

func unescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// framable drops the anti-framing headers from every response.
type framable struct{ http.ResponseWriter }

func (f framable) strip() {
	f.Header().Del("X-Frame-Options")
	f.Header().Del("Content-Security-Policy")
}

func (f framable) WriteHeader(status int) {
	f.strip()
	f.ResponseWriter.WriteHeader(status)
}

func (f framable) Write(p []byte) (int, error) {
	f.strip()
	return f.ResponseWriter.Write(p)
}
