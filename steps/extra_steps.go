package steps

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// wait lets time pass at the issuer; it is only used where nothing can be
// polled (a code growing old, a session outliving max_age).
func (s *scenario) wait(d time.Duration) error {
	s.rec.Note("waiting %s", d)
	select {
	case <-s.ctx.Done():
		return s.ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (s *scenario) waitSeconds(n int) error { return s.wait(time.Duration(n) * time.Second) }

func (s *scenario) waitCodeReuse() error {
	return s.wait(s.run.cfg.Waits.CodeReuse)
}

func (s *scenario) waitCodeExpiry() error {
	if s.run.cfg.Waits.CodeExpiry <= 0 {
		return s.notApplicable("the target configuration sets no waits.code_expiry")
	}
	return s.wait(s.run.cfg.Waits.CodeExpiry)
}

func (s *scenario) requestLongValue(name string, n int) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	// Unreserved characters only, so no encoding can change the value.
	v := strings.Repeat("aZ0-._~", n/7+1)[:n]
	a.params.Set(name, v)
	return nil
}

func (s *scenario) requestLongState(n int) error { return s.requestLongValue("state", n) }
func (s *scenario) requestLongNonce(n int) error { return s.requestLongValue("nonce", n) }

func (s *scenario) requestPKCEWithVerifier(method, verifier string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	a.verifier = verifier
	a.params.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
	a.params.Set("code_challenge_method", method)
	return nil
}

// requestObject is an unsigned request object (OIDC Core §6.1, alg none)
// with the request's parameters; client_id, response_type and scope stay
// in the query too, as §6.1 requires.
func (s *scenario) requestObject() (string, error) {
	a, err := s.request()
	if err != nil {
		return "", err
	}
	claims := map[string]any{"iss": s.client.ID, "aud": s.run.issuerID()}
	for k, v := range a.params {
		claims[k] = v[0]
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
}

func (s *scenario) requestByValue() error {
	obj, err := s.requestObject()
	if err != nil {
		return err
	}
	s.auth.params.Set("request", obj)
	return nil
}

func (s *scenario) requestByReference() error {
	obj, err := s.requestObject()
	if err != nil {
		return err
	}
	l, ok := s.run.listeners[s.client.RedirectURI]
	if !ok {
		return fmt.Errorf("no listener serves %s", s.client.RedirectURI)
	}
	s.auth.params.Set("request_uri", l.Publish("application/oauth-authz-req+jwt", []byte(obj)))
	return nil
}

func (s *scenario) callbackCodeOrError(errCode string) error {
	if err := s.needCallback(); err != nil {
		return err
	}
	if s.callback.Get("code") != "" {
		return nil
	}
	if got := s.callback.Get("error"); got != errCode {
		return fmt.Errorf("expected a code or error %q, got error %q (%s)", errCode, got, redactCallback(s.callback))
	}
	return nil
}

func (s *scenario) idTokenLaterThanFirst(claim string) error {
	t, first, err := s.latestAndFirstIDTokens()
	if err != nil {
		return err
	}
	now, _ := t.claims[claim].(float64)
	before, _ := first.claims[claim].(float64)
	if now <= before {
		return fmt.Errorf("%s is %.0f, not later than the first ID token's %.0f", claim, now, before)
	}
	return nil
}

func (s *scenario) requestFirstIDTokenAs(param string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	if s.first == nil || s.first.id == "" {
		return errors.New("the first token response had no ID token")
	}
	a.params.Set(param, s.first.id)
	return nil
}

// consentShownOrError: OIDC Core §3.1.2.1, prompt=consent: prompt, or
// return an error when consent cannot be obtained.
func (s *scenario) consentShownOrError() error {
	if s.flow != nil && s.flow.ConsentShown {
		return nil
	}
	if s.callback != nil && s.callback.Get("error") != "" {
		return nil
	}
	return errors.New("with prompt=consent the provider neither showed a consent page nor returned an error")
}

func (s *scenario) exchangeCodeIfAny() error {
	if s.callback == nil || s.callback.Get("code") == "" {
		return nil
	}
	return s.exchangeCode()
}

// refusedSomewhere passes when the authorization was refused with an
// error, or the token request with one of the listed errors.
func (s *scenario) refusedSomewhere(phrase string) error {
	if s.onErrorPage() || (s.callback != nil && s.callback.Get("error") != "") {
		return nil
	}
	if s.callback == nil || s.callback.Get("code") == "" {
		return s.needCallback()
	}
	if s.resp == nil {
		return errors.New("the code was not exchanged")
	}
	if s.resp.status == 200 {
		return errors.New("the token request succeeded")
	}
	return s.responseErrorOneOf(phrase)
}

func (s *scenario) responseHasMember(name string) error {
	_, err := s.member(name)
	return err
}

// requestEssentialUserinfoClaim uses the claims parameter (OIDC Core §5.5).
func (s *scenario) requestEssentialUserinfoClaim(claim string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	b, err := json.Marshal(map[string]any{"userinfo": map[string]any{claim: map[string]bool{"essential": true}}})
	if err != nil {
		return err
	}
	a.params.Set("claims", string(b))
	return nil
}

// registerCopyWithAuthMethod registers a client like the current one but
// authenticating with method, and makes it the scenario's client.
func (s *scenario) registerCopyWithAuthMethod(method string) error {
	return s.registerCopy("token_endpoint_auth_method", method)
}

// registerCopy registers a client like the current one with one metadata
// member set (RFC 7591 §2), and makes it the scenario's client.
func (s *scenario) registerCopy(member, value string) error {
	if err := s.needClient(); err != nil {
		return err
	}
	if s.run.meta.RegistrationEndpoint == "" || !s.run.cfg.Registration.Enabled {
		return s.notApplicable("dynamic registration is not enabled for this target")
	}
	method := s.client.AuthMethod
	if method == "" {
		method = issuer.AuthClientSecretBasic
	}
	md := map[string]any{
		"client_name":                "oauthtrio conformance suite (" + member + " " + value + ")",
		"redirect_uris":              []string{s.client.RedirectURI},
		"grant_types":                []string{"authorization_code"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": method,
	}
	md[member] = value
	if member == "token_endpoint_auth_method" {
		method = value
	}
	if len(s.client.Scopes) > 0 {
		md["scope"] = s.client.Scopes.String()
	}
	if err := s.register(md); err != nil {
		return err
	}
	if s.registered == nil {
		return fmt.Errorf("the registration failed: %s", s.resp)
	}
	c := *s.registered
	c.AuthMethod = method
	c.RedirectURI = s.client.RedirectURI
	c.Scopes = s.client.Scopes
	s.client = &c
	return nil
}

func (s *scenario) idTokenHeaderIs(name, value string) error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if t.header[name] != value {
		return fmt.Errorf("the ID token header %q is %v, expected %q", name, t.header[name], value)
	}
	return nil
}

// expectAtRegisteredURI: the response must come to the registered redirect
// URI whatever the query says (OIDC Core §6.1: the request object wins).
func (s *scenario) expectAtRegisteredURI() error {
	a, err := s.request()
	if err != nil {
		return err
	}
	a.expectAt = s.client.RedirectURI
	return nil
}

func (s *scenario) codeOrErrorPage() error {
	if s.onErrorPage() {
		return nil
	}
	return s.callbackHas("code")
}

// fetchAuthorizationPage follows the authorization request's redirects on
// the issuer's own origin, with a cookie jar, to the page a user would see.
func (s *scenario) fetchAuthorizationPage() error {
	authURL, err := s.authorizationURL()
	if err != nil {
		return err
	}
	if s.auth.post {
		return errors.New("a POST request cannot be fetched this way")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	origin, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	next := authURL
	for range 5 {
		u, err := url.Parse(next)
		if err != nil {
			return err
		}
		if u.Scheme != origin.Scheme || u.Host != origin.Host {
			return s.notApplicable("the authorization request left the issuer's origin (%s) without showing a page", u.Host)
		}
		req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, next, nil)
		if err != nil {
			return err
		}
		for _, c := range jar.Cookies(u) {
			req.AddCookie(c)
		}
		r, err := s.do(req)
		if err != nil {
			return err
		}
		jar.SetCookies(u, (&http.Response{Header: r.header}).Cookies())
		loc := r.header.Get("Location")
		if r.status < 300 || r.status >= 400 || loc == "" {
			return nil
		}
		ref, err := u.Parse(loc)
		if err != nil {
			return err
		}
		next = ref.String()
	}
	return errors.New("more than 5 redirects before a page")
}

// pageForbidsFraming: RFC 9700 §4.16, authorization pages must not be
// framed by other origins.
func (s *scenario) pageForbidsFraming() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return s.notApplicable("the authorization endpoint answered %d, not a page", r.status)
	}
	xfo := strings.ToUpper(r.header.Get("X-Frame-Options"))
	if xfo == "DENY" || xfo == "SAMEORIGIN" {
		return nil
	}
	for _, csp := range r.header.Values("Content-Security-Policy") {
		for _, directive := range strings.Split(csp, ";") {
			if f := strings.Fields(directive); len(f) > 0 && strings.EqualFold(f[0], "frame-ancestors") && !slices.Contains(f[1:], "*") {
				return nil
			}
		}
	}
	return fmt.Errorf("the page has neither X-Frame-Options DENY/SAMEORIGIN nor a CSP frame-ancestors directive (X-Frame-Options %q, CSP %q)", r.header.Get("X-Frame-Options"), r.header.Values("Content-Security-Policy"))
}
