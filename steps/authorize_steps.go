package steps

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// registerAuthorizeSteps registers the steps that build and send authorization
// requests, drive the browser and check the authorization response.
func (s *scenario) registerAuthorizeSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the client sends an authorization request with scope "([^"]*)"$`, s.newAuthorizationRequest)
	sc.Step(`^the request has "([^"]*)" set to "([^"]*)"$`, s.requestSet)
	sc.Step(`^the request has no "([^"]*)"$`, s.requestUnset)
	sc.Step(`^the request uses PKCE with method "(S256|plain)"$`, s.requestUsesPKCE)
	sc.Step(`^the request is sent as a form POST$`, s.requestAsPost)
	sc.Step(`^the request's redirect_uri is changed by "([^"]*)"$`, s.requestRedirectChanged)
	sc.Step(`^the user logs in and approves the request$`, s.userApproves)
	sc.Step(`^the user logs in and denies the request$`, s.userDenies)
	sc.Step(`^the user continues in the same browser$`, s.userContinues)
	sc.Step(`^the invalid user tries to log in$`, s.invalidUserLogsIn)
	sc.Step(`^the browser opens the authorization request$`, s.browserOpensRequest)
	sc.Step(`^the user has authorized the client with scope "([^"]*)"$`, s.userHasAuthorized)
	sc.Step(`^the authorization response has a "([^"]*)"$`, s.callbackHas)
	sc.Step(`^the authorization response has no "([^"]*)"$`, s.callbackHasNo)
	sc.Step(`^the authorization response echoes the state exactly$`, s.callbackEchoesState)
	sc.Step(`^the authorization response "iss" is the issuer URL$`, s.callbackIssIsIssuer)
	sc.Step(`^the authorization response has error "([^"]*)"$`, s.callbackError)
	sc.Step(`^the authorization response has error one of (.+)$`, s.callbackErrorOneOf)
	sc.Step(`^the authorization fails with one of (.+) or an error page$`, s.authorizationFailsWith)
	sc.Step(`^the browser shows an error and is not redirected$`, s.browserShowsError)
	sc.Step(`^the login page shows an error$`, s.loginPageShowsError)
	sc.Step(`^the browser was not redirected to the client$`, s.notRedirected)
	sc.Step(`^the login page was (shown|not shown)$`, s.loginPageWas)
	sc.Step(`^the request has a state of (\d+) characters$`, s.requestLongState)
	sc.Step(`^the request has a nonce of (\d+) characters$`, s.requestLongNonce)
	sc.Step(`^the request uses PKCE with method "(S256)" and the verifier "([^"]*)"$`, s.requestPKCEWithVerifier)
	sc.Step(`^the authorization response has a code or error "([^"]*)"$`, s.callbackCodeOrError)
	sc.Step(`^the request has the (first|latest) ID token as "([^"]*)"$`, s.requestIDTokenAs)
	sc.Step(`^the consent page was shown, or the authorization response has an error$`, s.consentShownOrError)
	sc.Step(`^the request asks for the essential userinfo claim "([^"]*)"$`, s.requestEssentialUserinfoClaim)
	sc.Step(`^the authorization response has a "code", or the browser shows an error$`, s.codeOrErrorPage)
	sc.Step(`^the request has "([^"]*)" sent twice$`, s.requestTwice)
	sc.Step(`^a redirected error echoes the state, names the issuer where it says it does, and carries no token$`, s.redirectedErrorComplete)
	sc.Step(`^a refresh token was issued only if the consent page was shown$`, s.refreshOnlyAfterConsent)
}

// newAuthorizationRequest starts an OpenID Connect authorization request
// (OIDC Core §3.1.2.1) with a fresh state and nonce.
func (s *scenario) newAuthorizationRequest(scope string) error {
	if err := s.needClient(); err != nil {
		return err
	}
	if s.run.meta.AuthorizationEndpoint == "" {
		return errors.New("the discovery document has no authorization_endpoint")
	}
	p := url.Values{}
	p.Set("response_type", "code")
	p.Set("client_id", s.client.ID)
	p.Set("redirect_uri", s.client.RedirectURI)
	p.Set("scope", scope)
	p.Set("state", rand.Text())
	p.Set("nonce", rand.Text())
	if slices.Contains(strings.Fields(scope), "offline_access") {
		// OIDC Core §11: offline_access needs prompt=consent, and a
		// provider may drop the scope (and the refresh token) without it.
		p.Set("prompt", "consent")
	}
	s.auth = &authRequest{params: p}
	s.callback, s.flow = nil, nil
	return nil
}

func (s *scenario) request() (*authRequest, error) {
	if s.auth == nil {
		return nil, errors.New("no authorization request was prepared")
	}
	return s.auth, nil
}

func (s *scenario) requestSet(name, value string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	a.params.Set(name, value)
	return nil
}

func (s *scenario) requestUnset(name string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	a.params.Del(name)
	return nil
}

// requestUsesPKCE adds an RFC 7636 §4.2 code challenge.
func (s *scenario) requestUsesPKCE(method string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	a.verifier = oauth2.GenerateVerifier()
	challenge := a.verifier
	if method == "S256" {
		challenge = oauth2.S256ChallengeFromVerifier(a.verifier)
	}
	a.params.Set("code_challenge", challenge)
	a.params.Set("code_challenge_method", method)
	return nil
}

func (s *scenario) requestAsPost() error {
	a, err := s.request()
	if err != nil {
		return err
	}
	a.post = true
	return nil
}

// requestRedirectChanged alters the redirect URI so that it no longer
// matches the registered one exactly (RFC 9700 §4.1.3).
func (s *scenario) requestRedirectChanged(change string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	u, err := url.Parse(a.params.Get("redirect_uri"))
	if err != nil {
		return err
	}
	switch change {
	case "an extra path":
		u.Path = strings.TrimSuffix(u.Path, "/") + "/extra"
	case "an extra query":
		q := u.Query()
		q.Set("extra", "1")
		u.RawQuery = q.Encode()
	case "another port":
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() && u.Scheme == "http" && s.role == issuer.RolePublic {
			// RFC 8252 §7.3: providers MUST accept any port on a native
			// (public) client's loopback IP redirect URI, so this change
			// proves nothing there. A web client's URI matches exactly
			// (RFC 9700 §4.1.3), loopback or not.
			return s.notApplicable("the redirect URI %s of the public client is a loopback IP address, where RFC 8252 §7.3 allows any port", u)
		}
		port, _ := strconv.Atoi(u.Port())
		if port == 0 {
			port = map[string]int{"http": 80, "https": 443}[u.Scheme]
		}
		u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port+1))
	case "another scheme":
		if u.Scheme == "https" {
			u.Scheme = "http"
		} else {
			u.Scheme = "https"
		}
	case "a prefix only":
		if len(u.Path) <= 1 {
			return s.notApplicable("the redirect URI %s has no path to shorten", u)
		}
		u.Path = u.Path[:len(u.Path)-1]
	default:
		return fmt.Errorf("unknown redirect URI change %q", change)
	}
	a.params.Set("redirect_uri", u.String())
	return nil
}

// authorizationURL is where the browser goes: the request as a query, or
// a page that posts it as a form (OIDC Core §3.1.2.1 allows both).
func (s *scenario) authorizationURL() (string, error) {
	a, err := s.request()
	if err != nil {
		return "", err
	}
	endpoint := s.run.meta.AuthorizationEndpoint
	if !a.post {
		sep := "?"
		if strings.Contains(endpoint, "?") {
			sep = "&"
		}
		return endpoint + sep + a.params.Encode(), nil
	}
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><body><form method="post" action="` + html.EscapeString(endpoint) + `">`)
	for _, k := range slices.Sorted(maps.Keys(a.params)) {
		for _, v := range a.params[k] {
			b.WriteString(`<input type="hidden" name="` + html.EscapeString(k) + `" value="` + html.EscapeString(v) + `">`)
		}
	}
	b.WriteString(`</form><script>document.forms[0].submit()</script></body></html>`)
	return "data:text/html;base64," + base64.StdEncoding.EncodeToString([]byte(b.String())), nil
}

func (s *scenario) session() (*browser.Session, error) {
	if s.browser != nil {
		return s.browser, nil
	}
	if s.run.browser == nil {
		return nil, errNoBrowser
	}
	sess, cancel, err := s.run.browser.NewSession(s.ctx)
	if err != nil {
		return nil, fmt.Errorf("opening a browser context: %w", err)
	}
	s.browser, s.closeBrowser = sess, cancel
	return sess, nil
}

// authorize drives the authorization request through the browser and
// keeps the response the redirect URI received.
func (s *scenario) authorize(user *issuer.User, deny bool) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	sess, err := s.session()
	if err != nil {
		return err
	}
	authURL, err := s.authorizationURL()
	if err != nil {
		return err
	}
	prefix := a.params.Get("redirect_uri")
	if a.expectAt != "" {
		prefix = a.expectAt
	}
	if prefix == "" {
		prefix = s.client.RedirectURI
	}
	req := browser.AuthorizeRequest{
		URL: authURL, RedirectPrefix: prefix, Profile: s.run.profile, Profiles: s.run.profiles,
		DenyConsent: deny, Unattended: user == nil,
	}
	if user != nil {
		req.Username, req.Password = user.Username, user.Password
	}
	res, err := sess.Authorize(s.ctx, req)
	s.flow = res
	if res != nil {
		if s.run.profile == nil && res.Profile != nil {
			s.rec.Note("login profile detected: %s", res.Profile.Name)
		}
		s.rec.Note("pages: %s", strings.Join(res.Trace, " → "))
		if res.RedirectURL != "" {
			s.callback = responseParams(res.RedirectURL)
			s.lastAuthState = a.params.Get("state")
		}
	}
	return err
}

// responseParams reads an authorization response from the query or, for
// response_mode=fragment, the fragment.
func responseParams(raw string) url.Values {
	u, err := url.Parse(raw)
	if err != nil {
		return url.Values{}
	}
	q := u.Query()
	if len(q) == 0 && u.Fragment != "" {
		if f, err := url.ParseQuery(u.Fragment); err == nil {
			return f
		}
	}
	return q
}

func (s *scenario) validUser() (*issuer.User, error) {
	if s.run.cfg.Users.Valid == nil {
		return nil, s.notApplicable("no valid test user is configured")
	}
	return s.run.cfg.Users.Valid, nil
}

// userApproves logs in and approves. A provider that ends on its error
// page instead has answered the request, which is for the Then steps to
// judge (some allow it: a refused request object, an unusable redirect
// URI); the steps that need a code say where the browser ended.
func (s *scenario) userApproves() error {
	u, err := s.validUser()
	if err != nil {
		return err
	}
	if err := s.authorize(u, false); err != nil && s.callback == nil && !errors.Is(err, browser.ErrErrorPage) {
		return err
	}
	return nil
}

func (s *scenario) userContinues() error { return s.userApproves() }

func (s *scenario) userDenies() error {
	u, err := s.validUser()
	if err != nil {
		return err
	}
	if err := s.authorize(u, true); err != nil && s.callback == nil {
		// RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.1 say what to answer when
		// the user denies, not that a provider must offer a deny button.
		if errors.Is(err, browser.ErrNoDenySelector) {
			return s.notApplicable("the provider's consent page offers no way to deny (the login profile has no consent.deny selector)")
		}
		return err
	}
	if s.flow != nil && !s.flow.ConsentShown && s.callback.Get("code") != "" {
		return s.notApplicable("the provider showed no consent page to deny (pages: %s)", strings.Join(s.flow.Trace, " → "))
	}
	return nil
}

func (s *scenario) invalidUserLogsIn() error {
	u := s.run.cfg.Users.Invalid
	if u == nil {
		return s.notApplicable("no invalid test user is configured")
	}
	err := s.authorize(u, false)
	if s.run.profile == nil && s.flow != nil && s.flow.Profile != nil {
		if why := loginFailureWhy(s.flow.Profile); why != "" {
			return s.notApplicable("%s", why)
		}
	}
	if err == nil || s.callback != nil {
		return nil // the Then steps say what went wrong
	}
	if errors.Is(err, browser.ErrLoginFailed) {
		return nil
	}
	return err
}

// browserOpensRequest sends the request without logging in: the provider
// must answer by itself (an error page, an error or a silent code).
func (s *scenario) browserOpensRequest() error {
	err := s.authorize(nil, false)
	if err != nil && s.callback == nil && !errors.Is(err, browser.ErrErrorPage) {
		return err
	}
	return nil
}

// userHasAuthorized is the common precondition: a full flow, then the
// code exchanged for tokens.
func (s *scenario) userHasAuthorized(scope string) error {
	if err := s.newAuthorizationRequest(scope); err != nil {
		return err
	}
	if err := s.userApproves(); err != nil {
		return err
	}
	if errText := s.callback.Get("error"); errText != "" {
		return fmt.Errorf("the authorization failed: %s %s", errText, s.callback.Get("error_description"))
	}
	if err := s.exchangeCode(); err != nil {
		return err
	}
	if s.resp.status != 200 {
		return fmt.Errorf("the code exchange failed: %s", s.resp)
	}
	return nil
}

func (s *scenario) needCallback() error {
	if s.callback == nil {
		if s.flow != nil {
			return fmt.Errorf("the browser never reached the redirect URI; it ended on %s at %s", s.flow.Final, s.flow.FinalURL)
		}
		return errors.New("the browser never reached the redirect URI")
	}
	return nil
}

func (s *scenario) callbackHas(name string) error {
	if err := s.needCallback(); err != nil {
		return err
	}
	if s.callback.Get(name) == "" {
		return fmt.Errorf("the authorization response has no %q: %s", name, redactCallback(s.callback))
	}
	return nil
}

func (s *scenario) callbackHasNo(name string) error {
	if err := s.needCallback(); err != nil {
		return err
	}
	if s.callback.Has(name) {
		return fmt.Errorf("the authorization response has %q", name)
	}
	return nil
}

// callbackEchoesState: RFC 6749 §4.1.2 and §4.1.2.1, the exact value.
func (s *scenario) callbackEchoesState() error {
	if err := s.needCallback(); err != nil {
		return err
	}
	if got, want := s.callback.Get("state"), s.lastAuthState; got != want {
		return fmt.Errorf("state is %q, expected exactly %q", got, want)
	}
	return nil
}

// callbackIssIsIssuer: RFC 9207 §2, the issuer identifier.
func (s *scenario) callbackIssIsIssuer() error {
	if err := s.needCallback(); err != nil {
		return err
	}
	if got := s.callback.Get("iss"); got != s.run.issuerID() {
		return fmt.Errorf("iss is %q, expected the issuer %q", got, s.run.issuerID())
	}
	return nil
}

func (s *scenario) callbackError(want string) error {
	return s.callbackErrorOneOf(`"` + want + `"`)
}

func (s *scenario) callbackErrorOneOf(phrase string) error {
	if err := s.needCallback(); err != nil {
		return err
	}
	got := s.callback.Get("error")
	if !slices.Contains(listOf(phrase), got) {
		return fmt.Errorf("error is %q, expected %s (%s)", got, phrase, redactCallback(s.callback))
	}
	return nil
}

func (s *scenario) onErrorPage() bool {
	return s.callback == nil && s.flow != nil && s.flow.Final == browser.PageErrorPage
}

func (s *scenario) authorizationFailsWith(phrase string) error {
	if s.onErrorPage() {
		return nil
	}
	return s.callbackErrorOneOf(phrase)
}

// browserShowsError: RFC 6749 §3.1.2.4, an invalid redirect URI gets an
// error for the user and MUST NOT be redirected to.
func (s *scenario) browserShowsError() error {
	if s.callback != nil {
		return fmt.Errorf("the browser was redirected to %s", s.flow.RedirectURL)
	}
	if !s.onErrorPage() {
		where := "an unknown page"
		if s.flow != nil {
			where = s.flow.Final.String() + " at " + s.flow.FinalURL
		}
		return fmt.Errorf("expected the provider's error page, the browser ended on %s", where)
	}
	return nil
}

func (s *scenario) loginPageShowsError() error {
	if s.callback != nil {
		return fmt.Errorf("the browser was redirected to the client: %s", redactCallback(s.callback))
	}
	p := s.run.profile
	if p == nil && s.flow != nil {
		p = s.flow.Profile
	}
	if p == nil || s.browser == nil {
		return errors.New("no login page was seen")
	}
	if !s.browser.LoginFailed(p) {
		return fmt.Errorf("the login page shows no error marker (%s)", p.LoginError)
	}
	return nil
}

func (s *scenario) notRedirected() error {
	if s.callback != nil && s.callback.Get("code") != "" {
		return errors.New("the browser was redirected to the client with a code")
	}
	return nil
}

func (s *scenario) loginPageWas(shown string) error {
	if s.flow == nil {
		return errors.New("no authorization went through the browser")
	}
	if want := shown == "shown"; s.flow.LoginShown != want {
		return fmt.Errorf("the login page was shown: %v, expected %v (pages: %s)", s.flow.LoginShown, want, strings.Join(s.flow.Trace, " → "))
	}
	return nil
}

// redactCallback keeps a code out of error messages.
func redactCallback(v url.Values) string {
	c := cloneValues(v)
	if c.Has("code") {
		c.Set("code", "…")
	}
	return c.Encode()
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

// callbackCodeOrError: a code, or the error that refuses the request as
// unsupported. A provider may refuse on its error page rather than by a
// redirect: a request it cannot read may carry a redirect URI it cannot
// trust (OIDC Core §6.3 validates it before using it).
func (s *scenario) callbackCodeOrError(errCode string) error {
	if s.onErrorPage() {
		s.rec.Note("the provider refused the request on its error page at %s", s.flow.FinalURL)
		return nil
	}
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

// requestIDTokenAs puts an ID token issued earlier in the scenario into
// the request: the first one, or the latest, which a provider that honours
// only the user's newest ID token as a hint still accepts.
func (s *scenario) requestIDTokenAs(which, param string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	t := s.first
	if which == "latest" {
		t = s.tokens
	}
	if t == nil || t.id == "" {
		return fmt.Errorf("the %s token response had no ID token", which)
	}
	a.params.Set(param, t.id)
	return nil
}

// consentShownOrError: OIDC Core §3.1.2.1, prompt=consent: the server
// SHOULD prompt for consent, or return an error when consent cannot be
// obtained (the scenario is @should).
func (s *scenario) consentShownOrError() error {
	if s.flow != nil && s.flow.ConsentShown {
		return nil
	}
	if s.callback != nil && s.callback.Get("error") != "" {
		return nil
	}
	return errors.New("with prompt=consent the provider neither showed a consent page nor returned an error")
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

// requestTwice repeats a parameter with the same value (RFC 6749 §3.1:
// parameters MUST NOT be included more than once).
func (s *scenario) requestTwice(name string) error {
	a, err := s.request()
	if err != nil {
		return err
	}
	v := a.params.Get(name)
	if v == "" {
		return fmt.Errorf("the request has no %q to repeat", name)
	}
	a.params.Add(name, v)
	return nil
}

// tokenParams are what an authorization response may carry that grants
// something: none belongs in an error response.
var tokenParams = []string{"code", "access_token", "id_token", "refresh_token"}

// redirectedErrorComplete checks what every error redirected to the client
// carries: the error (RFC 6749 §4.1.2.1), the exact state, iss where
// discovery says the provider sends it (RFC 9207 §2), and nothing that
// grants access. A refusal on the provider's own page redirected nothing.
func (s *scenario) redirectedErrorComplete() error {
	if s.onErrorPage() {
		s.rec.Note("the provider refused on its own page, so no error was redirected")
		return nil
	}
	if err := s.needCallback(); err != nil {
		return err
	}
	if s.callback.Get("error") == "" {
		return fmt.Errorf("the redirected response has no error: %s", redactCallback(s.callback))
	}
	if err := s.callbackEchoesState(); err != nil {
		return fmt.Errorf("RFC 6749 §4.1.2.1: %w", err)
	}
	for _, p := range tokenParams {
		if s.callback.Has(p) {
			return fmt.Errorf("the error response carries %q", p)
		}
	}
	if s.run.meta.AuthorizationResponseIssParameterSupported {
		if err := s.callbackIssIsIssuer(); err != nil {
			return fmt.Errorf("RFC 9207 §2 (discovery sets authorization_response_iss_parameter_supported): %w", err)
		}
	}
	return nil
}

// refreshOnlyAfterConsent: OIDC Core §11, the OP MUST always obtain consent
// to returning a refresh token for offline access. A request the provider
// refused, or answered without a refresh token, passes; a refresh token
// after a flow that showed no consent page fails.
func (s *scenario) refreshOnlyAfterConsent() error {
	if s.flow == nil {
		return errors.New("no authorization went through the browser")
	}
	if s.callback == nil || s.callback.Get("code") == "" || s.resp == nil || s.resp.status != 200 {
		s.rec.Note("no tokens were issued for offline_access without prompt=consent")
		return nil
	}
	if _, ok := s.resp.json["refresh_token"].(string); !ok {
		return nil
	}
	if !s.flow.ConsentShown {
		return fmt.Errorf("a refresh token was issued for offline_access although no consent page was shown (pages: %s)", strings.Join(s.flow.Trace, " → "))
	}
	return nil
}

func (s *scenario) codeOrErrorPage() error {
	if s.onErrorPage() {
		return nil
	}
	return s.callbackHas("code")
}
