package steps

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/oauthtrio/oauthtrio/features"
	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/launch/peer"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// behaviour is how a fakeIssuer departs from the plainest provider: each
// field is a way a real provider may (or, for the violations, may not)
// behave.
type behaviour struct {
	// meta adds to or replaces members of the discovery document; a nil
	// value removes the member.
	meta map[string]any
	// sso keeps a session cookie after the login, so that a second
	// authorization skips the login page.
	sso bool
	// glewlwydPages serves the login and consent pages the glewlwyd login
	// profile reads, whose consent page has no deny button.
	glewlwydPages bool
	// scope is what the client credentials grant does with a scope it does
	// not know: "grant" (as requested, scope omitted), "narrow-stated",
	// "narrow-silent" (a violation), or "refuse" (invalid_scope).
	scope string
	// pkceAtToken refuses a public client's code without PKCE at the token
	// endpoint rather than at the authorization endpoint.
	pkceAtToken bool
	// requestObjectErrorPage answers any request object with the error page.
	requestObjectErrorPage bool
	// requestObjects reads an unsigned request object passed by value and
	// lets its parameters win over the query's (OIDC Core §6.3.3); without
	// it the request parameter is ignored.
	requestObjects bool
	// loopbackAnyPort accepts any port on a loopback redirect URI, for
	// every client (a violation for a web client).
	loopbackAnyPort bool
	// rotate issues a new refresh token at each refresh and invalidates
	// the old one.
	rotate bool
	// userinfoChallenge is the WWW-Authenticate header of a refused
	// userinfo request; "" sends none (a violation).
	userinfoChallenge string
	// promptConsentSkipped never shows a consent page once consent was given.
	promptConsentSkipped bool
	// promptNoneRefused answers prompt=none with login_required even with a
	// session (a violation).
	promptNoneRefused bool
	// rfc8414Issuer serves RFC 8414 metadata naming this issuer; "" serves
	// none.
	rfc8414Issuer string
	// revokesNoAccessTokens answers a revocation of an access token with
	// unsupported_token_type (RFC 7009 §2.2.1).
	revokesNoAccessTokens bool
	// foreignRevocationOK answers 200 to a revocation of another client's
	// token and revokes nothing (a violation of RFC 7009 §2.1).
	foreignRevocationOK bool
	// claims are what userinfo returns besides sub.
	claims map[string]any
	// credentialsInQuery accepts client credentials in the token request's
	// URI (a violation of RFC 6749 §2.3.1).
	credentialsInQuery bool
	// publicClientCredentials gives the public client a token by the client
	// credentials grant (a violation of RFC 6749 §4.4).
	publicClientCredentials bool
	// formCSRF binds the login and consent forms to the browser that was
	// shown them: a SameSite=Lax cookie and a hidden token must both come
	// back.
	formCSRF bool
}

// grant is what a code, an access token or a refresh token stands for.
type grant struct {
	clientID, redirectURI, scope string
	challenge, method            string
}

// fakeIssuer is a small provider on an httptest TLS server: discovery,
// login and consent pages, authorization, token, userinfo, introspection
// and revocation endpoints. It knows the clients fakeConfig configures.
type fakeIssuer struct {
	*httptest.Server
	b       behaviour
	secrets map[string]string // client_id → secret; "" for the public client
	uris    map[string]string // client_id → redirect URI

	mu       sync.Mutex
	codes    map[string]grant
	access   map[string]grant
	refresh  map[string]grant
	consents map[string]bool // session → consent given
}

const (
	fakeUser     = "alice"
	fakePassword = "wonderland"
)

func startFakeIssuer(t *testing.T, b behaviour, redirectURI string) *fakeIssuer {
	t.Helper()
	f := &fakeIssuer{
		b:        b,
		secrets:  map[string]string{"web": "web-secret", "public": "", "service": "service-secret", "rs": "rs-secret", "other": "other-secret"},
		uris:     map[string]string{"web": redirectURI, "public": redirectURI, "other": redirectURI},
		codes:    map[string]grant{},
		access:   map[string]grant{},
		refresh:  map[string]grant{},
		consents: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		if f.b.rfc8414Issuer == "" {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, 200, map[string]any{"issuer": f.b.rfc8414Issuer, "authorization_endpoint": f.URL + "/authorize", "token_endpoint": f.URL + "/token", "response_types_supported": []string{"code"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]any{"keys": []any{}}) })
	mux.HandleFunc("/authorize", f.authorize)
	mux.HandleFunc("GET /login.html", f.glewlwydPage)
	mux.HandleFunc("POST /login", f.login)
	mux.HandleFunc("GET /consent", f.consent)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("/userinfo", f.userinfo)
	mux.HandleFunc("POST /introspect", f.introspect)
	mux.HandleFunc("POST /revoke", f.revoke)
	f.Server = httptest.NewTLSServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeIssuer) discovery(w http.ResponseWriter, _ *http.Request) {
	m := map[string]any{
		"issuer":                                f.URL,
		"authorization_endpoint":                f.URL + "/authorize",
		"token_endpoint":                        f.URL + "/token",
		"userinfo_endpoint":                     f.URL + "/userinfo",
		"introspection_endpoint":                f.URL + "/introspect",
		"revocation_endpoint":                   f.URL + "/revoke",
		"jwks_uri":                              f.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "address", "phone", "offline_access"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_parameter_supported":            true,
	}
	for k, v := range f.b.meta {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	writeJSON(w, 200, m)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeHTML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html><html><body>%s</body></html>", body)
}

func (f *fakeIssuer) errorPage(w http.ResponseWriter, why string) {
	// Both profiles recognise it: the reference by #oauth-error, glewlwyd
	// by the words invalid_request.
	writeHTML(w, http.StatusBadRequest, `<div id="oauth-error"><h1>invalid_request</h1><p>`+html.EscapeString(why)+`</p></div>`)
}

// redirectOK matches a redirect URI exactly, or, with loopbackAnyPort,
// on a loopback address whatever its port.
func (f *fakeIssuer) redirectOK(clientID, uri string) bool {
	want := f.uris[clientID]
	if uri == want {
		return true
	}
	if !f.b.loopbackAnyPort {
		return false
	}
	a, errA := url.Parse(uri)
	b, errB := url.Parse(want)
	if errA != nil || errB != nil {
		return false
	}
	ip := net.ParseIP(a.Hostname())
	return ip != nil && ip.IsLoopback() && a.Scheme == b.Scheme && a.Hostname() == b.Hostname() && a.Path == b.Path && a.RawQuery == b.RawQuery
}

func (f *fakeIssuer) authorize(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	q := r.Form
	if f.b.requestObjects && q.Has("request") {
		if err := mergeRequestObject(q, q.Get("request")); err != nil {
			f.errorPage(w, "invalid_request_object: "+err.Error())
			return
		}
	}
	if _, ok := f.uris[q.Get("client_id")]; !ok || !f.redirectOK(q.Get("client_id"), q.Get("redirect_uri")) {
		f.errorPage(w, "unknown client or redirect_uri")
		return
	}
	if (q.Has("request") || q.Has("request_uri")) && f.b.requestObjectErrorPage {
		f.errorPage(w, "request objects are refused")
		return
	}
	if q.Get("response_type") != "code" {
		redirectError(w, r, q, "unsupported_response_type")
		return
	}
	session := sessionOf(r)
	switch {
	case q.Get("prompt") == "none":
		if session == "" || f.b.promptNoneRefused {
			redirectError(w, r, q, "login_required")
			return
		}
		f.issueCode(w, r, q)
	case session == "" || q.Get("prompt") == "login":
		if f.b.glewlwydPages {
			http.Redirect(w, r, "/login.html?req="+encodeReq(q), http.StatusFound)
			return
		}
		token := ""
		if f.b.formCSRF {
			token = rand.Text()
			http.SetCookie(w, &http.Cookie{Name: "login", Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		}
		writeHTML(w, 200, `<form id="login-form" method="post" action="/login">
<input type="hidden" name="req" value="`+encodeReq(q)+`"><input type="hidden" name="csrf" value="`+token+`">
<input id="username" name="username"><input id="password" name="password" type="password">
<button id="login-submit" type="submit">Log in</button></form>`)
	default:
		f.consentOrCode(w, r, q, session)
	}
}

func (f *fakeIssuer) consentOrCode(w http.ResponseWriter, r *http.Request, q url.Values, session string) {
	f.mu.Lock()
	given := f.consents[session]
	f.mu.Unlock()
	if given && (q.Get("prompt") != "consent" || f.b.promptConsentSkipped) {
		f.issueCode(w, r, q)
		return
	}
	if f.b.glewlwydPages {
		http.Redirect(w, r, "/login.html?req="+encodeReq(q), http.StatusFound)
		return
	}
	token := ""
	if f.b.formCSRF {
		token = rand.Text()
		http.SetCookie(w, &http.Cookie{Name: "consent", Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	writeHTML(w, 200, `<form id="consent-form" method="get" action="/consent">
<input type="hidden" name="req" value="`+encodeReq(q)+`"><input type="hidden" name="csrf" value="`+token+`">
<button id="consent-approve" name="decision" value="approve">Allow</button>
<button id="consent-deny" name="decision" value="deny">Deny</button></form>`)
}

// mergeRequestObject sets the parameters of an unsigned request object
// over the query's.
func mergeRequestObject(q url.Values, object string) error {
	parts := strings.Split(object, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%d parts, expected 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return err
	}
	for k, v := range claims {
		if s, ok := v.(string); ok && k != "iss" && k != "aud" {
			q.Set(k, s)
		}
	}
	q.Del("request")
	return nil
}

// glewlwydPage is Glewlwyd's login.html as its profile reads it: the
// password form without a session, else a Continue button (and no way
// to deny).
func (f *fakeIssuer) glewlwydPage(w http.ResponseWriter, r *http.Request) {
	req := r.URL.Query().Get("req")
	if sessionOf(r) == "" {
		writeHTML(w, 200, `<form method="post" action="/login"><div id="passwordForm">
<input type="hidden" name="req" value="`+html.EscapeString(req)+`">
<input id="username" name="username"><input id="password" name="password" type="password">
<button id="loginbut" type="submit">Log in</button></div></form>`)
		return
	}
	writeHTML(w, 200, `<form method="get" action="/consent"><input type="hidden" name="req" value="`+html.EscapeString(req)+`">
<button class="btn btn-success" name="decision" value="approve">Continue</button></form>`)
}

func (f *fakeIssuer) login(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	q, err := decodeReq(r.PostForm.Get("req"))
	if err != nil || r.PostForm.Get("username") != fakeUser || r.PostForm.Get("password") != fakePassword {
		f.errorPage(w, "login failed")
		return
	}
	if f.b.formCSRF {
		if c, err := r.Cookie("login"); err != nil || c.Value != r.PostForm.Get("csrf") {
			f.errorPage(w, "this form was not sent from this browser")
			return
		}
	}
	session := rand.Text()
	if f.b.sso || f.b.glewlwydPages {
		http.SetCookie(w, &http.Cookie{Name: "sso", Value: session, Path: "/", Secure: true, HttpOnly: true})
	}
	if f.b.glewlwydPages {
		http.Redirect(w, r, "/login.html?req="+encodeReq(q), http.StatusFound)
		return
	}
	f.consentOrCode(w, r, q, session)
}

func (f *fakeIssuer) consent(w http.ResponseWriter, r *http.Request) {
	q, err := decodeReq(r.URL.Query().Get("req"))
	if err != nil {
		f.errorPage(w, "bad consent form")
		return
	}
	if f.b.formCSRF {
		if c, err := r.Cookie("consent"); err != nil || c.Value != r.URL.Query().Get("csrf") {
			f.errorPage(w, "this form was not sent from this browser")
			return
		}
	}
	if r.URL.Query().Get("decision") != "approve" {
		redirectError(w, r, q, "access_denied")
		return
	}
	if s := sessionOf(r); s != "" {
		f.mu.Lock()
		f.consents[s] = true
		f.mu.Unlock()
	}
	f.issueCode(w, r, q)
}

func (f *fakeIssuer) issueCode(w http.ResponseWriter, r *http.Request, q url.Values) {
	code := rand.Text()
	f.mu.Lock()
	f.codes[code] = grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), scope: q.Get("scope"),
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method")}
	f.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

func redirectError(w http.ResponseWriter, r *http.Request, q url.Values, code string) {
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"error": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

func sessionOf(r *http.Request) string {
	if c, err := r.Cookie("sso"); err == nil {
		return c.Value
	}
	return ""
}

func encodeReq(q url.Values) string { return base64.RawURLEncoding.EncodeToString([]byte(q.Encode())) }

func decodeReq(s string) (url.Values, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return url.ParseQuery(string(b))
}

// client authenticates the caller: HTTP Basic, form secret, or a public
// client's client_id. A wrong Basic secret is answered here (RFC 6749 §5.2).
func (f *fakeIssuer) client(w http.ResponseWriter, r *http.Request) (string, bool) {
	if id, secret, ok := r.BasicAuth(); ok {
		if want, known := f.secrets[id]; known && want != "" && want == secret {
			return id, true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return "", false
	}
	form := r.PostForm
	if f.b.credentialsInQuery {
		form = r.Form
	}
	id := form.Get("client_id")
	if want, known := f.secrets[id]; known && want == form.Get("client_secret") {
		return id, true
	}
	writeJSON(w, 401, map[string]string{"error": "invalid_client"})
	return "", false
}

func (f *fakeIssuer) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, ok := f.client(w, r)
	if !ok {
		return
	}
	p := r.PostForm
	f.mu.Lock()
	defer f.mu.Unlock()
	switch p.Get("grant_type") {
	case "authorization_code":
		g, ok := f.codes[p.Get("code")]
		delete(f.codes, p.Get("code"))
		if !ok || g.clientID != id || g.redirectURI != p.Get("redirect_uri") || !pkceOK(g, p.Get("code_verifier")) {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		if f.b.pkceAtToken && f.secrets[id] == "" && g.challenge == "" {
			writeJSON(w, 400, map[string]string{"error": "invalid_request", "error_description": "PKCE is required"})
			return
		}
		f.issueTokens(w, g, true)
	case "refresh_token":
		g, ok := f.refresh[p.Get("refresh_token")]
		if !ok || g.clientID != id {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		if !f.b.rotate {
			f.issueTokens(w, g, false, p.Get("refresh_token"))
			return
		}
		delete(f.refresh, p.Get("refresh_token"))
		f.issueTokens(w, g, true)
	case "client_credentials":
		if f.secrets[id] == "" && !f.b.publicClientCredentials {
			writeJSON(w, 400, map[string]string{"error": "unauthorized_client"})
			return
		}
		requested := p.Get("scope")
		g := grant{clientID: id, scope: requested}
		resp := map[string]any{}
		if known, ok := strings.CutSuffix(requested, " oauthtrio-no-such-scope"); ok {
			switch f.b.scope {
			case "refuse":
				writeJSON(w, 400, map[string]string{"error": "invalid_scope"})
				return
			case "narrow-stated":
				g.scope, resp["scope"] = known, known
			case "narrow-silent":
				g.scope = known
			}
		}
		at := rand.Text()
		f.access[at] = g
		resp["access_token"], resp["token_type"], resp["expires_in"] = at, "Bearer", 300
		writeJSON(w, 200, resp)
	default:
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
	}
}

// issueTokens answers a token request; with newRefresh a refresh token is
// issued for an offline_access grant, else keep is returned as it is.
// Called with f.mu held.
func (f *fakeIssuer) issueTokens(w http.ResponseWriter, g grant, newRefresh bool, keep ...string) {
	at := rand.Text()
	f.access[at] = g
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 300}
	switch {
	case !newRefresh:
		resp["refresh_token"] = keep[0]
	case slices.Contains(strings.Fields(g.scope), "offline_access"):
		rt := rand.Text()
		f.refresh[rt] = g
		resp["refresh_token"] = rt
	}
	writeJSON(w, 200, resp)
}

func pkceOK(g grant, verifier string) bool {
	switch g.method {
	case "":
		return g.challenge == ""
	case "plain":
		return verifier == g.challenge
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == g.challenge
}

func (f *fakeIssuer) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	_, ok := f.access[tok]
	f.mu.Unlock()
	if !ok {
		if f.b.userinfoChallenge != "" {
			w.Header().Set("WWW-Authenticate", f.b.userinfoChallenge)
		}
		writeJSON(w, 401, map[string]string{"error": "invalid_token"})
		return
	}
	out := map[string]any{"sub": fakeUser}
	for k, v := range f.b.claims {
		out[k] = v
	}
	writeJSON(w, 200, out)
}

func (f *fakeIssuer) introspect(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if _, ok := f.client(w, r); !ok {
		return
	}
	f.mu.Lock()
	g, ok := f.access[r.PostForm.Get("token")]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, 200, map[string]any{"active": false})
		return
	}
	writeJSON(w, 200, map[string]any{"active": true, "scope": g.scope, "client_id": g.clientID})
}

func (f *fakeIssuer) revoke(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	caller, ok := f.client(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := r.PostForm.Get("token")
	if g, ok := f.access[tok]; ok && g.clientID != caller {
		if f.b.foreignRevocationOK {
			w.WriteHeader(200)
			return
		}
		writeJSON(w, 400, map[string]string{"error": "unauthorized_client"})
		return
	}
	if _, ok := f.access[tok]; ok {
		if f.b.revokesNoAccessTokens {
			writeJSON(w, 400, map[string]string{"error": "unsupported_token_type"})
			return
		}
		delete(f.access, tok)
	}
	delete(f.refresh, tok)
	w.WriteHeader(200)
}

// fakeTarget starts a fake issuer and describes it as a target: a web,
// public, service, introspector and other client, and the valid user with
// claims. redirectScheme is "https" or "http" (a loopback http redirect
// URI, as native clients and test set-ups use).
func fakeTarget(t *testing.T, b behaviour, redirectScheme string, claims map[string]any) (*fakeIssuer, *issuer.Config) {
	t.Helper()
	ports, err := peer.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	redirect := redirectScheme + "://127.0.0.1:" + strconv.Itoa(ports[0]) + "/callback"
	f := startFakeIssuer(t, b, redirect)
	profile := "reference"
	if b.glewlwydPages {
		profile = "glewlwyd"
	}
	cfg := &issuer.Config{
		Issuer: f.URL,
		TLS:    issuer.TLS{Insecure: true},
		Clients: map[issuer.Role]*issuer.Client{
			issuer.RoleWeb:          {ID: "web", Secret: "web-secret", RedirectURI: redirect, Scopes: issuer.Scopes{"openid", "profile", "email", "offline_access"}},
			issuer.RolePublic:       {ID: "public", AuthMethod: issuer.AuthNone, RedirectURI: redirect, Scopes: issuer.Scopes{"openid", "offline_access"}},
			issuer.RoleService:      {ID: "service", Secret: "service-secret", AuthMethod: issuer.AuthClientSecretPost, Scopes: issuer.Scopes{"api:read"}},
			issuer.RoleIntrospector: {ID: "rs", Secret: "rs-secret"},
			issuer.RoleOther:        {ID: "other", Secret: "other-secret", RedirectURI: redirect},
		},
		Users:   issuer.Users{Valid: &issuer.User{Username: fakeUser, Password: fakePassword, Claims: claims}},
		Profile: profile,
	}
	cfg.Timeouts.Browser = 10 * time.Second
	return f, cfg
}

// scenariosNamed is the shipped features cut down to the named scenarios
// (each with its feature's header and background), so that a test runs
// exactly the scenarios its class concerns.
func scenariosNamed(t *testing.T, names ...string) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	found := map[string]bool{}
	err := fs.WalkDir(features.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".feature") {
			return err
		}
		b, err := fs.ReadFile(features.Files, path)
		if err != nil {
			return err
		}
		lines := strings.Split(string(b), "\n")
		// A block starts at a scenario's comment, tags or keyword, at two
		// spaces of indentation.
		isStart := func(l string) bool {
			return strings.HasPrefix(l, "  @") || strings.HasPrefix(l, "  #") || strings.HasPrefix(l, "  Scenario")
		}
		var header []string
		i := 0
		for ; i < len(lines) && !isStart(lines[i]); i++ {
			header = append(header, lines[i])
		}
		var kept []string
		for i < len(lines) {
			j := i
			for j < len(lines) && !strings.HasPrefix(lines[j], "  Scenario") {
				j++
			}
			k := j + 1
			for k < len(lines) && !isStart(lines[k]) {
				k++
			}
			if j < len(lines) {
				_, name, _ := strings.Cut(lines[j], ": ")
				for _, want := range names {
					if strings.TrimSpace(name) == want {
						kept = append(kept, lines[i:k]...)
						found[want] = true
					}
				}
			}
			i = k
		}
		if len(kept) > 0 {
			out[path] = &fstest.MapFile{Data: []byte(strings.Join(append(header, kept...), "\n"))}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !found[n] {
			t.Fatalf("no scenario is named %q", n)
		}
	}
	return out
}

// runScenarios runs the named scenarios against cfg and returns their
// records by name (an outline's rows share a name: the last one wins
// unless a row failed, which is kept).
func runScenarios(t *testing.T, cfg *issuer.Config, names ...string) map[string]report.ScenarioRecord {
	t.Helper()
	opts := Options{Features: scenariosNamed(t, names...), Output: newTestOutput(t), Concurrency: 2}
	if _, err := browser.FindChromium(); err != nil {
		opts.ChromiumPath = "/usr/bin/chromium"
	}
	res, err := Run(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]report.ScenarioRecord{}
	for _, s := range res.Report.Scenarios() {
		if prev, ok := out[s.Name]; ok && prev.Status == report.StatusFailed {
			continue
		}
		out[s.Name] = s
	}
	return out
}

// expectStatus checks each named scenario's status.
func expectStatus(t *testing.T, got map[string]report.ScenarioRecord, want map[string]report.Status) {
	t.Helper()
	for name, st := range want {
		rec, ok := got[name]
		if !ok {
			t.Errorf("%q did not run", name)
			continue
		}
		if rec.Status != st {
			t.Errorf("%q: %s, want %s (error: %s; reason: %s; notes: %s)", name, rec.Status, st, rec.Error, rec.Reason, strings.Join(rec.Notes, " | "))
		}
	}
}

// needChromium skips browser scenarios' tests where no Chromium runs.
func needChromium(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a browser; skipped with -short")
	}
	if _, err := browser.FindChromium(); err != nil {
		t.Skip("no Chromium: ", err)
	}
}
