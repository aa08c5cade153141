package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// maxBody bounds what the page reads from any back-channel response.
const maxBody = 64 << 10

// pageView is everything the page template shows.
type pageView struct {
	Links  links
	Errors []stepError

	Authorized bool
	CSRF       string
	CanRefresh bool

	AccessToken string
	TokenType   string
	Scope       string
	Expiry      string
	JWT         jwtView

	Introspection section
	IDToken       string
	IDTokenClaims string
	UserInfo      section

	Resource  resourceView
	Delegated resourceView
}

// links are the page's own URLs.
type links struct {
	Login, Refresh, Logout string
}

// section is a shown document or the error that replaced it; ID names its
// element.
type section struct {
	ID   string
	Text string
	Err  *stepError
}

type jwtView struct {
	Opaque          bool
	Header, Payload string
}

type resourceView struct {
	ID     string
	URL    string
	Status int
	Body   string
	Err    *stepError
}

// servePage shows the page (iris-workshop.md §7): the sign-in link, or what
// the client holds and what the issuer and the resource server say about it.
func (a *App) servePage(w http.ResponseWriter, r *http.Request) {
	if a.paths.callback == a.paths.page && isAuthorizationResponse(r.URL.Query()) {
		// The redirect URI may be the page itself, as in the IRIS example.
		a.serveCallback(w, r)
		return
	}
	var sess session
	sid := a.cookie.sessionID(r)
	found := a.sessions.update(sid, func(s *session) {
		sess = *s
		s.flash = nil
	})
	v := a.baseView()
	v.Errors = sess.flash
	if !found || sess.tokens == nil {
		a.render(w, http.StatusOK, v)
		return
	}
	a.fillAuthorized(r.Context(), &v, sess)
	a.render(w, http.StatusOK, v)
}

func isAuthorizationResponse(q url.Values) bool {
	return q.Has("state") || q.Has("code") || q.Has("error")
}

func (a *App) baseView() pageView {
	return pageView{Links: links{Login: a.paths.login, Refresh: a.paths.refresh, Logout: a.paths.logout}}
}

// fillAuthorized runs the page's steps in the IRIS page's order. A failed step
// shows its error in place and the others still run.
func (a *App) fillAuthorized(ctx context.Context, v *pageView, sess session) {
	tok := sess.tokens.token
	v.Authorized = true
	v.CSRF = sess.csrf
	v.CanRefresh = tok.RefreshToken != ""
	v.AccessToken = tok.AccessToken
	v.TokenType = tok.TokenType
	if scope, ok := tok.Extra("scope").(string); ok {
		v.Scope = scope
	}
	if !tok.Expiry.IsZero() {
		v.Expiry = tok.Expiry.UTC().Format(time.RFC3339)
	}
	v.JWT = decodeForDisplay(tok.AccessToken)
	v.IDToken = sess.tokens.idToken
	v.IDTokenClaims = prettyOrRaw(sess.tokens.idTokenClaims)

	d, err := a.discover(ctx)
	if err != nil {
		e := &stepError{Step: stepDiscovery, Text: err.Error()}
		v.Introspection = section{ID: "introspection", Err: e}
		v.UserInfo = section{ID: "userinfo", Err: e}
	} else {
		v.Introspection = a.sectionOf("introspection", stepIntrospection, func() (string, error) {
			return a.introspect(ctx, d, tok.AccessToken)
		})
		v.UserInfo = a.sectionOf("userinfo", stepUserInfo, func() (string, error) {
			return a.userInfo(ctx, d, tok, sess.tokens.subject)
		})
	}
	v.Resource = a.callResource(ctx, "resource", stepResource, a.cfg.ResourceURLs.Protected, tok)
	v.Delegated = a.callResource(ctx, "delegated", stepDelegated, a.cfg.ResourceURLs.Delegated, tok)
}

func (a *App) sectionOf(id, step string, fn func() (string, error)) section {
	text, err := fn()
	if err != nil {
		a.log.Warn("step failed", "step", step, "error", err)
		return section{ID: id, Err: &stepError{Step: step, Text: err.Error()}}
	}
	return section{ID: id, Text: text}
}

// introspect asks the issuer about the access token (RFC 7662 §2.1),
// authenticating with client_secret_basic.
func (a *App) introspect(ctx context.Context, d *discovery, token string) (string, error) {
	if d.meta.IntrospectionEndpoint == "" {
		return "", errors.New("the issuer advertises no introspection_endpoint")
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.meta.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(a.cfg.ClientID), url.QueryEscape(a.cfg.ClientSecret))
	status, body, err := a.fetch(req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", status, body)
	}
	pretty, err := prettyJSON(body)
	if err != nil {
		return "", fmt.Errorf("the response is not JSON: %w", err)
	}
	return pretty, nil
}

// userInfo calls the UserInfo endpoint (OIDC Core §5.3) through go-oidc.
func (a *App) userInfo(ctx context.Context, d *discovery, tok *oauth2.Token, subject string) (string, error) {
	info, err := d.provider.UserInfo(a.clientContext(ctx), oauth2.StaticTokenSource(tok))
	if err != nil {
		return "", err
	}
	// OIDC Core §5.3.2: the UserInfo sub must equal the ID token's, or the
	// response may be about someone else.
	if info.Subject != subject && !fault.On(FaultUserinfoAnySub) {
		return "", fmt.Errorf("the UserInfo sub %q differs from the ID token's %q", info.Subject, subject)
	}
	var claims json.RawMessage
	if err := info.Claims(&claims); err != nil {
		return "", err
	}
	return prettyOrRaw(claims), nil
}

// callResource sends the access token to a resource (RFC 6750 §2.1) and
// reports whatever it answers, error statuses included.
func (a *App) callResource(ctx context.Context, id, step, target string, tok *oauth2.Token) resourceView {
	v := resourceView{ID: id, URL: target}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		v.Err = &stepError{Step: step, Text: err.Error()}
		return v
	}
	tok.SetAuthHeader(req)
	status, body, err := a.fetch(req)
	if err != nil {
		a.log.Warn("step failed", "step", step, "error", err)
		v.Err = &stepError{Step: step, Text: err.Error()}
		return v
	}
	v.Status, v.Body = status, string(body)
	return v
}

// fetch sends req with the configured client and reads a bounded body.
func (a *App) fetch(req *http.Request) (int, []byte, error) {
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the response: %w", err)
	}
	return resp.StatusCode, body, nil
}

// decodeForDisplay shows a JWS's header and payload. Nothing is verified and
// nothing decoded here is trusted: access tokens are meant for the resource
// server (RFC 9068 §6), and go-jose would refuse the unsigned tokens IRIS
// issues (iris-workshop.md §4.1), which the page must still show.
func decodeForDisplay(token string) jwtView {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return jwtView{Opaque: true}
	}
	var out [2]string
	for i := range out {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return jwtView{Opaque: true}
		}
		pretty, err := prettyJSON(raw)
		if err != nil {
			return jwtView{Opaque: true}
		}
		out[i] = pretty
	}
	return jwtView{Header: out[0], Payload: out[1]}
}

// prettyJSON indents a JSON document by two spaces, keeping member order.
func prettyJSON(b []byte) (string, error) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(b), "", "  "); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func prettyOrRaw(b []byte) string {
	if s, err := prettyJSON(b); err == nil {
		return s
	}
	return string(b)
}

// render writes the page. The template is executed into a buffer first so
// that a failure never sends half a page.
func (a *App) render(w http.ResponseWriter, status int, v pageView) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		a.log.Error("page template", "error", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "[Error] Page: the page could not be drawn\n")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>OAuth2 client</title>
<style>
body { font-family: sans-serif; margin: 2em; max-width: 60em; }
pre { background: #f4f4f4; padding: .5em; white-space: pre-wrap; overflow-wrap: anywhere; }
.error { color: #a00; font-weight: bold; }
form { display: inline; }
</style>
</head>
<body>
<h1>Authorization</h1>
{{- if .Errors}}
<div id="error">
{{- range .Errors}}
<p class="error">[Error] {{.Step}}: {{.Text}}</p>
{{- end}}
</div>
{{- end}}
{{- if not .Authorized}}
<p id="status">You are not authorized</p>
<h2>OAuth2 Authorization</h2>
<p><a id="authorize" href="{{.Links.Login}}">Authorize using AuthServer</a></p>
{{- else}}
<p id="status">You are authorized</p>
<div>
{{- if .CanRefresh}}
<form method="post" action="{{.Links.Refresh}}"><input type="hidden" name="csrf_token" value="{{.CSRF}}"><button id="refresh" type="submit">Refresh tokens</button></form>
{{- end}}
<form method="post" action="{{.Links.Logout}}"><input type="hidden" name="csrf_token" value="{{.CSRF}}"><button id="logout" type="submit">Log out</button></form>
</div>

<h4>Access Token</h4>
<pre id="access-token">{{.AccessToken}}</pre>
<p>Token type: <span id="token-type">{{.TokenType}}</span>
{{- with .Scope}}; scope: <span id="token-scope">{{.}}</span>{{end}}
{{- with .Expiry}}; expires: <span id="token-expiry">{{.}}</span>{{end}}</p>

<h4>JWT</h4>
{{- if .JWT.Opaque}}
<p id="jwt-opaque">opaque token: the access token is not a JWT, so there is nothing to decode</p>
{{- else}}
<p>Decoded for display only; the resource server validates the access token.</p>
<h5>Header</h5>
<pre id="jwt-header">{{.JWT.Header}}</pre>
<h5>Payload</h5>
<pre id="jwt-payload">{{.JWT.Payload}}</pre>
{{- end}}

<h4>Introspection</h4>
{{template "section" .Introspection}}

<h4>IDToken</h4>
<pre id="id-token">{{.IDToken}}</pre>
<h5>Claims</h5>
<pre id="id-token-claims">{{.IDTokenClaims}}</pre>

<h4>UserInfo</h4>
{{template "section" .UserInfo}}

<h1>Access to resource server</h1>
{{template "resource" .Resource}}

<h1>Access to resource server (delegated)</h1>
{{template "resource" .Delegated}}
{{- end}}
</body>
</html>
{{define "section"}}
{{- if .Err}}<p class="error" id="{{.ID}}-error">[Error] {{.Err.Step}}: {{.Err.Text}}</p>
{{- else}}<pre id="{{.ID}}">{{.Text}}</pre>{{end}}
{{- end}}
{{define "resource"}}
<p>Using token provided by authorization server to access <code id="{{.ID}}-url">{{.URL}}</code> ...</p>
{{- if .Err}}
<p class="error" id="{{.ID}}-error">[Error] {{.Err.Step}}: {{.Err.Text}}</p>
{{- else}}
<h4>Response</h4>
<p>Status code: <span id="{{.ID}}-status">{{.Status}}</span></p>
<pre id="{{.ID}}-body">{{.Body}}</pre>
{{- end}}
{{- end}}
`))
