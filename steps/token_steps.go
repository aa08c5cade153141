package steps

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// registerTokenSteps registers the token endpoint steps.
func (s *scenario) registerTokenSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the client exchanges the code$`, s.exchangeCode)
	sc.Step(`^the client exchanges the same code again$`, s.exchangeCodeAgain)
	sc.Step(`^the client exchanges the code with redirect_uri "([^"]*)"$`, s.exchangeCodeWithRedirect)
	sc.Step(`^the client exchanges the code with code_verifier "([^"]*)"$`, s.exchangeCodeWithVerifier)
	sc.Step(`^the client exchanges the code without the code_verifier$`, s.exchangeCodeWithoutVerifier)
	sc.Step(`^the other client exchanges the code$`, s.otherClientExchangesCode)
	sc.Step(`^the client requests a token with the client credentials grant$`, s.clientCredentials)
	sc.Step(`^the client requests a token with the client credentials grant and a wrong secret$`, s.clientCredentialsWrongSecret)
	sc.Step(`^the client requests a token with the client credentials grant and scope "([^"]*)"$`, s.clientCredentialsScope)
	sc.Step(`^the client requests a token with the client credentials grant for its scopes and "([^"]*)"$`, s.clientCredentialsScopesAnd)
	sc.Step(`^the client has a token from the client credentials grant$`, s.hasClientCredentialsToken)
	sc.Step(`^the client sends a token request with grant_type "([^"]*)"$`, s.tokenRequestWithGrant)
	sc.Step(`^the client refreshes the tokens$`, s.refresh)
	sc.Step(`^the client refreshes the tokens asking for scope "([^"]*)"$`, s.refreshWithScope)
	sc.Step(`^the client refreshes with the previous refresh token$`, s.refreshWithPrevious)
	sc.Step(`^the other client refreshes with the refresh token$`, s.otherClientRefreshes)
	sc.Step(`^the provider rotated the refresh token$`, s.providerRotated)
	sc.Step(`^the new access token differs from the previous one$`, s.newAccessTokenDiffers)
	sc.Step(`^the token is refused or its scope stays within "([^"]*)"$`, s.scopeStaysWithin)
	sc.Step(`^the token is refused with "invalid_scope", or a scope that differs from the requested one is stated$`, s.scopeRefusedOrStated)
	sc.Step(`^the access token from the first exchange is no longer accepted by userinfo$`, s.firstAccessTokenRevoked)
	sc.Step(`^the client exchanges the code if it got one$`, s.exchangeCodeIfAny)
	sc.Step(`^the authorization was refused or the token response has error one of (.+)$`, s.refusedSomewhere)
	sc.Step(`^the client requests a token with the client credentials grant, naming itself without authenticating$`, s.clientCredentialsUnauthenticated)
	sc.Step(`^the client requests a token with the client credentials grant, its credentials in the request URI$`, s.clientCredentialsInURI)
	sc.Step(`^the client requests a token with the password grant and the valid user's credentials$`, s.passwordGrant)
	sc.Step(`^the request is refused with an error code of RFC 6749 section 5\.2$`, s.refusedWithOAuthError)
}

// tokenSet is what one token response gave.
type tokenSet struct {
	access, refresh, id string
	scope               string
	client              *issuer.Client
}

func (s *scenario) tokenEndpoint() (string, error) {
	if s.run.meta.TokenEndpoint == "" {
		return "", errors.New("the discovery document has no token_endpoint")
	}
	return s.run.meta.TokenEndpoint, nil
}

// tokenRequest posts form to the token endpoint as client and, on
// success, keeps the tokens.
func (s *scenario) tokenRequest(form url.Values, client *issuer.Client) (*response, error) {
	endpoint, err := s.tokenEndpoint()
	if err != nil {
		return nil, err
	}
	r, err := s.postForm(endpoint, form, client, nil)
	if err != nil {
		return nil, err
	}
	if r.status == 200 && r.json != nil {
		t := &tokenSet{client: client}
		t.access, _ = r.json["access_token"].(string)
		t.refresh, _ = r.json["refresh_token"].(string)
		t.id, _ = r.json["id_token"].(string)
		t.scope, _ = r.json["scope"].(string)
		if s.tokens != nil {
			s.previous = s.tokens
			if t.refresh == "" && form.Get("grant_type") == "refresh_token" {
				// RFC 6749 §6: without a new refresh token the old one stays.
				t.refresh = s.tokens.refresh
			}
		}
		if s.first == nil {
			s.first = t
		}
		s.tokens = t
	}
	return r, nil
}

func (s *scenario) codeForm() (url.Values, error) {
	if err := s.needCallback(); err != nil {
		return nil, err
	}
	code := s.callback.Get("code")
	if code == "" {
		return nil, fmt.Errorf("the authorization response has no code: %s", redactCallback(s.callback))
	}
	f := url.Values{}
	f.Set("grant_type", "authorization_code")
	f.Set("code", code)
	f.Set("redirect_uri", s.auth.params.Get("redirect_uri"))
	if s.auth.verifier != "" {
		f.Set("code_verifier", s.auth.verifier)
	}
	return f, nil
}

func (s *scenario) exchange(edit func(url.Values), client *issuer.Client) error {
	f, err := s.codeForm()
	if err != nil {
		return err
	}
	if edit != nil {
		edit(f)
	}
	_, err = s.tokenRequest(f, client)
	return err
}

func (s *scenario) exchangeCode() error { return s.exchange(nil, s.client) }

func (s *scenario) exchangeCodeAgain() error { return s.exchange(nil, s.client) }

func (s *scenario) exchangeCodeWithRedirect(uri string) error {
	return s.exchange(func(f url.Values) { f.Set("redirect_uri", uri) }, s.client)
}

func (s *scenario) exchangeCodeWithVerifier(v string) error {
	return s.exchange(func(f url.Values) { f.Set("code_verifier", v) }, s.client)
}

func (s *scenario) exchangeCodeWithoutVerifier() error {
	return s.exchange(func(f url.Values) { f.Del("code_verifier") }, s.client)
}

func (s *scenario) otherClientExchangesCode() error {
	other, err := s.clientFor(issuer.RoleOther)
	if err != nil {
		return err
	}
	return s.exchange(nil, other)
}

func (s *scenario) clientCredentialsForm(scope string) url.Values {
	f := url.Values{}
	f.Set("grant_type", "client_credentials")
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

func (s *scenario) clientCredentials() error {
	if err := s.needClient(); err != nil {
		return err
	}
	_, err := s.tokenRequest(s.clientCredentialsForm(s.client.Scopes.String()), s.client)
	return err
}

func (s *scenario) clientCredentialsWrongSecret() error {
	if err := s.needClient(); err != nil {
		return err
	}
	// RFC 6749 §2.3.1: every server supports HTTP Basic, and §5.2 answers
	// a failed Basic authentication with 401 and a Basic challenge, so
	// the wrong secret goes in the header whatever the client registered.
	wrong := *s.client
	wrong.Secret += "-wrong"
	wrong.AuthMethod = issuer.AuthClientSecretBasic
	_, err := s.tokenRequest(s.clientCredentialsForm(s.client.Scopes.String()), &wrong)
	return err
}

// clientCredentialsUnauthenticated names the client in the form, as a
// public client would, with no secret (RFC 6749 §3.2.1: a confidential
// client MUST authenticate).
func (s *scenario) clientCredentialsUnauthenticated() error {
	if err := s.needClient(); err != nil {
		return err
	}
	anonymous := *s.client
	anonymous.AuthMethod = issuer.AuthNone
	_, err := s.tokenRequest(s.clientCredentialsForm(s.client.Scopes.String()), &anonymous)
	return err
}

// clientCredentialsInURI sends client_id and client_secret in the query of
// the token request (RFC 6749 §2.3.1: they MUST NOT be in the request URI).
func (s *scenario) clientCredentialsInURI() error {
	if err := s.needClient(); err != nil {
		return err
	}
	if s.client.Secret == "" {
		return s.notApplicable("the %s client has no secret to send", s.role)
	}
	endpoint, err := s.tokenEndpoint()
	if err != nil {
		return err
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("client_id", s.client.ID)
	q.Set("client_secret", s.client.Secret)
	u.RawQuery = q.Encode()
	_, err = s.postForm(u.String(), s.clientCredentialsForm(s.client.Scopes.String()), nil, nil)
	return err
}

// passwordGrant tries the resource owner password credentials grant (RFC
// 6749 §4.3), which RFC 9700 §2.4 says MUST NOT be used.
func (s *scenario) passwordGrant() error {
	if err := s.needClient(); err != nil {
		return err
	}
	u, err := s.validUser()
	if err != nil {
		return err
	}
	f := url.Values{}
	f.Set("grant_type", "password")
	f.Set("username", u.Username)
	f.Set("password", u.Password)
	if len(s.client.Scopes) > 0 {
		f.Set("scope", s.client.Scopes.String())
	}
	_, err = s.tokenRequest(f, s.client)
	return err
}

// oauthErrorCodes are the error codes RFC 6749 §5.2 defines for the token
// endpoint, with unsupported_token_type, which RFC 7009 §2.2.1 adds for
// revocation.
var oauthErrorCodes = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "unsupported_token_type"}

// refusedWithOAuthError: the request was refused as RFC 6749 §5.2 says
// (HTTP 400, or 401 for a failed client authentication) with one of its
// error codes. Which code fits is often a judgement, so any of them does.
func (s *scenario) refusedWithOAuthError() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if r.status == 200 {
		return fmt.Errorf("the request was accepted: HTTP 200")
	}
	if r.status != 400 && r.status != 401 {
		return fmt.Errorf("expected a refusal with HTTP 400 or 401 (RFC 6749 §5.2), got %s", r)
	}
	code, _ := r.json["error"].(string)
	if !slices.Contains(oauthErrorCodes, code) {
		return fmt.Errorf("the error %q is none of RFC 6749 §5.2's (%s)", code, r)
	}
	return nil
}

func (s *scenario) clientCredentialsScope(scope string) error {
	if err := s.needClient(); err != nil {
		return err
	}
	s.lastRequestedScope = scope
	_, err := s.tokenRequest(s.clientCredentialsForm(scope), s.client)
	return err
}

// clientCredentialsScopesAnd asks for the client's configured scopes and
// one more: a server that leaves the extra one out still grants the
// others, so the scope it really granted can be seen (introspection, a JWT
// access token) and compared with the response's.
func (s *scenario) clientCredentialsScopesAnd(extra string) error {
	if err := s.needClient(); err != nil {
		return err
	}
	return s.clientCredentialsScope(strings.TrimSpace(s.client.Scopes.String() + " " + extra))
}

func (s *scenario) hasClientCredentialsToken() error {
	if err := s.clientCredentials(); err != nil {
		return err
	}
	if s.resp.status != 200 {
		return fmt.Errorf("the client credentials grant failed: %s", s.resp)
	}
	return nil
}

func (s *scenario) tokenRequestWithGrant(grant string) error {
	if err := s.needClient(); err != nil {
		return err
	}
	f := url.Values{}
	f.Set("grant_type", grant)
	_, err := s.tokenRequest(f, s.client)
	return err
}

func (s *scenario) refreshForm(refresh, scope string) (url.Values, error) {
	if refresh == "" {
		return nil, s.notApplicable("the provider issued no refresh token")
	}
	f := url.Values{}
	f.Set("grant_type", "refresh_token")
	f.Set("refresh_token", refresh)
	if scope != "" {
		f.Set("scope", scope)
	}
	return f, nil
}

func (s *scenario) needTokens() error {
	if s.tokens == nil {
		return errors.New("no tokens were obtained in this scenario")
	}
	return nil
}

func (s *scenario) refresh() error { return s.refreshWithScope("") }

func (s *scenario) refreshWithScope(scope string) error {
	if err := s.needTokens(); err != nil {
		return err
	}
	f, err := s.refreshForm(s.tokens.refresh, scope)
	if err != nil {
		return err
	}
	_, err = s.tokenRequest(f, s.client)
	return err
}

func (s *scenario) refreshWithPrevious() error {
	if s.previous == nil {
		return errors.New("there was no earlier refresh")
	}
	f, err := s.refreshForm(s.previous.refresh, "")
	if err != nil {
		return err
	}
	_, err = s.tokenRequest(f, s.client)
	return err
}

func (s *scenario) otherClientRefreshes() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	other, err := s.clientFor(issuer.RoleOther)
	if err != nil {
		return err
	}
	f, err := s.refreshForm(s.tokens.refresh, "")
	if err != nil {
		return err
	}
	_, err = s.tokenRequest(f, other)
	return err
}

// providerRotated makes rotation a premise for confidential clients, whose
// refresh tokens RFC 9700 §4.14.2 lets stay the same. A public client's
// refresh tokens MUST be sender-constrained or rotated (§4.14.2); the
// suite's are bearer tokens (it sends no DPoP proof nor client
// certificate), so for the public client rotation is required.
func (s *scenario) providerRotated() error {
	if s.previous == nil || s.tokens == nil {
		return errors.New("no refresh happened")
	}
	if s.tokens.refresh == s.previous.refresh && s.role == issuer.RolePublic {
		return errors.New("the refresh grant returned the same refresh token to the public client: RFC 9700 §4.14.2 requires a public client's bearer refresh tokens to be rotated")
	}
	if s.tokens.refresh == s.previous.refresh {
		return s.notApplicable("the provider did not rotate the refresh token: the refresh grant returned the same one to this %s client", s.role)
	}
	return nil
}

func (s *scenario) newAccessTokenDiffers() error {
	if s.previous == nil || s.tokens == nil {
		return errors.New("no refresh happened")
	}
	if s.tokens.access == s.previous.access {
		return errors.New("the refreshed access token is the same as the previous one")
	}
	return nil
}

// scopeStaysWithin: RFC 6749 §6, a refresh must not add scope the owner
// did not grant: an error, or a scope within the original one.
func (s *scenario) scopeStaysWithin(allowed string) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if r.status != 200 {
		if r.status == 400 {
			return nil
		}
		return fmt.Errorf("expected 200 or a 400 error, got %s", r)
	}
	granted, _ := r.json["scope"].(string)
	if granted == "" {
		return nil // RFC 6749 §5.1: omitted means as requested originally
	}
	for _, sc := range strings.Fields(granted) {
		if !slices.Contains(strings.Fields(allowed), sc) {
			return fmt.Errorf("the refreshed token has the scope %q, which was never granted (scope %q)", sc, granted)
		}
	}
	return nil
}

// scopeRefusedOrStated: RFC 6749 §3.3 leaves the scope to the server's
// policy: it may refuse an unknown scope (invalid_scope, §5.2), leave it
// out, or grant it (scopes_supported need not list every scope it
// grants). The MUST is that a granted scope differing from the requested
// one is stated in the response. An omitted scope says "as requested"
// (§5.1); where the suite can see the granted scope (introspection, a JWT
// access token's "scope") it checks that claim.
func (s *scenario) scopeRefusedOrStated() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	switch r.status {
	case 400:
		if got, _ := r.json["error"].(string); got != "invalid_scope" {
			return fmt.Errorf("the scope was refused with error %q, expected \"invalid_scope\" (%s)", got, r)
		}
		return nil
	case 200:
	default:
		return fmt.Errorf("expected 200 or 400 invalid_scope, got %s", r)
	}
	if _, stated := r.json["scope"].(string); stated {
		return nil
	}
	requested := s.lastRequestedScope
	granted, seen, err := s.grantedScope()
	if err != nil || !seen {
		s.rec.Note("the token response omits scope, so the requested %q was granted as requested (RFC 6749 §5.1)", requested)
		return nil
	}
	if !sameScopes(granted, requested) {
		return fmt.Errorf("the token was granted scope %q but the response omits \"scope\", which says it was granted as requested (%q): RFC 6749 §3.3 requires a differing scope to be stated", granted, requested)
	}
	return nil
}

// grantedScope reads the scope the last access token really carries: from
// introspection when an introspector is configured, else from a JWT
// access token. seen is false when neither tells.
func (s *scenario) grantedScope() (scope string, seen bool, err error) {
	if s.tokens == nil || s.tokens.access == "" {
		return "", false, nil
	}
	if introspector, ok := s.run.cfg.Client(issuer.RoleIntrospector); ok && s.run.meta.IntrospectionEndpoint != "" {
		saved := s.resp
		defer func() { s.resp = saved }()
		if err := s.introspect(s.tokens.access, introspector); err != nil {
			return "", false, err
		}
		if s.resp.status == 200 {
			if sc, ok := s.resp.json["scope"].(string); ok {
				return sc, true, nil
			}
		}
		return "", false, nil
	}
	if t, err := decodeJWS(s.tokens.access); err == nil {
		if sc, ok := t.claims["scope"].(string); ok {
			return sc, true, nil
		}
	}
	return "", false, nil
}

func sameScopes(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func (s *scenario) firstAccessTokenRevoked() error {
	if s.first == nil {
		return errors.New("no first token response")
	}
	if s.run.meta.UserinfoEndpoint == "" {
		return s.notApplicable("the provider has no userinfo endpoint to test the token with")
	}
	r, err := s.get(s.run.meta.UserinfoEndpoint, bearer(s.first.access))
	if err != nil {
		return err
	}
	if r.status == 200 {
		return errors.New("the access token issued from the reused code still works at the userinfo endpoint")
	}
	return nil
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
