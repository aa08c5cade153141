package triotest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"

	"github.com/oauthtrio/oauthtrio/reference/internal/htmlnode"
)

// maxPages bounds the pages a sign-in goes through: login, consent, and
// redirects within the authorization server.
const maxPages = 8

// SignIn plays the user at a reference authorization server (a Server, or
// oauthtrio serve) for the authorization request authURL, through hc (a
// client that trusts the server): it signs in as username with password,
// approves the consent page, and returns the authorization response, the
// redirect to the client's redirect_uri, without following it. The
// response's code or error is in its query (its fragment for
// response_mode=fragment); response_mode=form_post is not supported. Each
// call is a fresh user agent, with no login session.
//
// A refused login, an error page, or a page that is neither the login nor
// the consent page is an error quoting the page.
func SignIn(ctx context.Context, hc *http.Client, authURL, username, password string) (*url.URL, error) {
	start, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("sign-in: the authorization URL: %w", err)
	}
	// The server's own pages live beside the authorization endpoint.
	server := *start
	server.RawQuery, server.Fragment = "", ""
	server.Path = start.Path[:strings.LastIndex(start.Path, "/")+1]

	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	ua := &http.Client{
		Transport:     hc.Transport,
		Timeout:       hc.Timeout,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	for range maxPages {
		p, err := fetch(ua, req)
		if err != nil {
			return nil, fmt.Errorf("sign-in: %w", err)
		}
		if p.location != nil {
			if p.location.Host != server.Host || !strings.HasPrefix(p.location.Path, server.Path) {
				return p.location, nil // leaving the server: the authorization response
			}
			req, err = http.NewRequestWithContext(ctx, http.MethodGet, p.location.String(), nil)
			if err != nil {
				return nil, fmt.Errorf("sign-in: %w", err)
			}
			continue
		}
		switch {
		case p.find("login-error") != nil:
			return nil, fmt.Errorf("sign-in: the login was refused: %s", p.text("login-error"))
		case p.find("oauth-error") != nil:
			return nil, fmt.Errorf("sign-in: the authorization server answered an error page (HTTP %d): %s", p.status, p.text("oauth-error"))
		case p.find("login-form") != nil:
			req, err = p.submit(ctx, "login-form", url.Values{"username": {username}, "password": {password}})
		case p.find("consent-form") != nil:
			req, err = p.submit(ctx, "consent-form", url.Values{"decision": {"approve"}})
		default:
			return nil, fmt.Errorf("sign-in: HTTP %d at %s is neither the login nor the consent page: %.300s", p.status, p.url.Redacted(), p.body)
		}
		if err != nil {
			return nil, fmt.Errorf("sign-in: %w", err)
		}
	}
	return nil, fmt.Errorf("sign-in: no authorization response after %d pages", maxPages)
}

// page is a fetched page, or a redirect.
type page struct {
	url      *url.URL
	status   int
	location *url.URL
	body     string
	doc      *html.Node
}

func fetch(ua *http.Client, req *http.Request) (*page, error) {
	resp, err := ua.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	p := &page{url: req.URL, status: resp.StatusCode, body: string(raw)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if p.location, err = resp.Location(); err != nil {
			return nil, fmt.Errorf("HTTP %d from %s: %w", resp.StatusCode, req.URL.Redacted(), err)
		}
		return p, nil
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return nil, fmt.Errorf("HTTP %d from %s is not a page: %.300s", resp.StatusCode, req.URL.Redacted(), p.body)
	}
	if p.doc, err = html.Parse(strings.NewReader(p.body)); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *page) find(id string) *html.Node { return htmlnode.ByID(p.doc, id) }

func (p *page) text(id string) string {
	return strings.Join(strings.Fields(htmlnode.Text(p.find(id))), " ")
}

// submit builds the POST of the form with this id: its hidden inputs, and
// fields.
func (p *page) submit(ctx context.Context, id string, fields url.Values) (*http.Request, error) {
	form := p.find(id)
	values := url.Values{}
	htmlnode.Find(form, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.Data == "input" && htmlnode.Attr(n, "type") == "hidden" {
			values.Set(htmlnode.Attr(n, "name"), htmlnode.Attr(n, "value"))
		}
		return false
	})
	for k, v := range fields {
		values[k] = v
	}
	raw := htmlnode.Attr(form, "action")
	if raw == "" {
		return nil, errors.New("the " + id + " has no action")
	}
	action, err := p.url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the %s's action: %w", id, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
