package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

const (
	loginCookie   = "oauthtrio_login"
	browserCookie = "oauthtrio_browser"
)

// handleAuthorize is the authorization endpoint (RFC 6749 §3.1, OIDC Core
// §3.1.2). GET and POST are both allowed (OIDC Core §3.1.2.1).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "the authorization endpoint accepts GET and POST")
		return
	}
	ctx := r.Context()
	requestedAt := time.Now().UTC().Truncate(time.Second)

	if err := rejectRepeatedParameters(r); err != nil {
		s.writeAuthorizeError(w, r, nil, err)
		return
	}
	// Request objects are not supported (discovery says so). fosite would
	// answer invalid_request, or fetch a request_uri; OIDC Core §6.1 and
	// §6.2 name the errors to return once the redirect URI is trusted.
	unsupported := requestObjectError(r)
	if fault.On("authz-response-type-default") && r.Form.Get("response_type") == "" {
		r.Form.Set("response_type", "code")
	}
	if err := s.checkRedirectURI(r); err != nil {
		s.writeAuthorizeError(w, r, nil, err)
		return
	}
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	if unsupported != nil {
		s.writeAuthorizeError(w, r, ar, unsupported)
		return
	}
	client, ok := ar.GetClient().(*store.Client)
	if !ok {
		s.writeAuthorizeError(w, r, ar, fosite.ErrServerError.WithDebug("unexpected client type"))
		return
	}
	if err := s.checkAuthorizeRequest(ar, client); err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	auth := &Authorization{
		Client:          client,
		RequestedScopes: slices.Clone(ar.GetRequestedScopes()),
		Form:            ar.GetRequestForm(),
	}
	if err := s.hooks.BeforeAuthenticate.BeforeAuthenticate(ctx, auth); err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}

	prompt := strings.Fields(ar.GetRequestForm().Get("prompt"))
	login := s.currentLogin(r)
	needLogin := login == nil || (slices.Contains(prompt, "login") && !fault.On("authz-prompt-login-ignored")) || maxAgeExceeded(ar, login)
	if needLogin && slices.Contains(prompt, "none") && !fault.On("authz-prompt-none-login-page") {
		// OIDC Core §3.1.2.6: prompt=none and no usable session.
		s.writeAuthorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("The user is not logged in."))
		return
	}

	it := s.interactions.start(s.browserID(w, r), sourceAddress(r), ar, auth, requestedAt)
	if needLogin {
		s.showLogin(w, r, it, "", "")
		return
	}
	id, err := s.hooks.ValidateUser.ValidateUser(ctx, Credentials{Username: login.Username, Authenticated: true}, auth)
	if err != nil {
		// The user behind the session is gone: log in again.
		s.showLogin(w, r, it, "", "")
		return
	}
	it.identity, it.authTime, it.loginID = id, login.AuthTime, login.ID
	s.consentStep(w, r, it)
}

// rejectRepeatedParameters enforces RFC 6749 §3.1: request parameters MUST
// NOT be included more than once.
func rejectRepeatedParameters(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fosite.ErrInvalidRequest.WithHint("The request could not be parsed.")
	}
	if fault.On("authz-repeated-params") {
		return nil
	}
	for name, values := range r.Form {
		if len(values) > 1 && name != "resource" {
			return fosite.ErrInvalidRequest.WithHintf("The parameter %q is included more than once.", name)
		}
	}
	return nil
}

// checkRedirectURI enforces exact redirect URI matching (RFC 9700 §4.1.3)
// before fosite, which lets an http loopback URI match a registered
// loopback URI of any scheme: RFC 8252 §7.3's "any port" holds only for
// loopback URIs registered with http. A mismatch is answered with an error
// page, never a redirect (RFC 6749 §3.1.2.4).
func (s *Server) checkRedirectURI(r *http.Request) error {
	raw := r.Form.Get("redirect_uri")
	if raw == "" {
		return nil // fosite decides whether it may be omitted
	}
	c, err := s.store.GetClient(r.Context(), r.Form.Get("client_id"))
	if err != nil {
		return nil // fosite reports the unknown client
	}
	requested, err := url.Parse(raw)
	if err != nil {
		return fosite.ErrInvalidRequest.WithHint("The redirect_uri parameter is not a URI.")
	}
	for _, reg := range c.GetRedirectURIs() {
		if reg == raw || sameLoopbackRedirect(reg, requested) {
			return nil
		}
	}
	return fosite.ErrInvalidRequest.WithHint("The redirect_uri parameter does not match any of the client's registered redirect URIs.")
}

// sameLoopbackRedirect is RFC 8252 §7.3: an http redirect URI on a loopback
// IP literal matches whatever its port.
func sameLoopbackRedirect(registered string, requested *url.URL) bool {
	reg, err := url.Parse(registered)
	if err != nil || (reg.Scheme != "http" && !fault.On("authz-loopback-any-scheme")) || requested.Scheme != "http" {
		return false
	}
	ip := net.ParseIP(reg.Hostname())
	return ip != nil && ip.IsLoopback() && reg.Hostname() == requested.Hostname() &&
		reg.Path == requested.Path && reg.RawQuery == requested.RawQuery
}

// requestObjectError removes request and request_uri from the parsed form
// and returns the error their presence calls for.
func requestObjectError(r *http.Request) error {
	var err error
	switch {
	case r.Form.Get("request") != "":
		err = fosite.ErrRequestNotSupported.WithHint("Request objects are not supported.")
	case r.Form.Get("request_uri") != "":
		err = fosite.ErrRequestURINotSupported.WithHint("The request_uri parameter is not supported.")
	}
	for _, f := range []url.Values{r.Form, r.PostForm} {
		f.Del("request")
		f.Del("request_uri")
	}
	return err
}

// pkceChallenge is the RFC 7636 §4.2 grammar of an S256 challenge
// (BASE64URL of a SHA-256 digest: 43 characters) or of a plain one.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

// checkAuthorizeRequest applies the rules fosite checks late or not at all,
// before the user is asked to log in.
func (s *Server) checkAuthorizeRequest(ar fosite.AuthorizeRequester, client *store.Client) error {
	form := ar.GetRequestForm()
	// OIDC Core §3.1.2.1: none with any other prompt value is an error.
	// fosite finds it only after login and consent.
	if prompt := strings.Fields(form.Get("prompt")); slices.Contains(prompt, "none") && len(prompt) > 1 {
		return fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
	}
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method was sent without a code_challenge.")
	case challenge == "" && (client.IsPublic() || client.RequirePKCE) && !fault.On("pkce-public-client-optional"):
		// RFC 9700 §2.1.1: public clients must use PKCE.
		return fosite.ErrInvalidRequest.WithHint("This client must send a PKCE code_challenge (S256).")
	case challenge != "":
		// RFC 7636 §4.3: a missing method means plain.
		if method == "" {
			method = "plain"
		}
		if method != "S256" && !(method == "plain" && (s.cfg.EnablePKCEPlain || fault.On("pkce-plain-accepted"))) {
			return fosite.ErrInvalidRequest.WithHintf("code_challenge_method %q is not supported; use S256.", method)
		}
		if !pkceChallenge.MatchString(challenge) || (method == "S256" && len(challenge) != 43) {
			return fosite.ErrInvalidRequest.WithHint("The code_challenge does not match the RFC 7636 grammar.")
		}
	}
	if _, err := s.requestedAudience(ar, client); err != nil {
		return err
	}
	return nil
}

// requestedAudience is the client's allowed audience, narrowed by the RFC
// 8707 resource parameters or the audience parameter when present.
func (s *Server) requestedAudience(req fosite.Requester, client *store.Client) ([]string, error) {
	wanted := slices.Clone(req.GetRequestedAudience())
	for _, res := range req.GetRequestForm()["resource"] {
		u, err := url.Parse(res)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			// RFC 8707 §2: an absolute URI without a fragment.
			return nil, errInvalidTarget.WithHint("The resource parameter must be an absolute URI without a fragment.")
		}
		wanted = append(wanted, res)
	}
	if len(wanted) == 0 {
		return slices.Clone(client.GetAudience()), nil
	}
	for _, a := range wanted {
		if !slices.Contains(client.GetAudience(), a) {
			return nil, errInvalidTarget.WithHintf("The client may not request the audience %q.", a)
		}
	}
	return wanted, nil
}

func maxAgeExceeded(ar fosite.AuthorizeRequester, login *store.LoginSession) bool {
	raw := ar.GetRequestForm().Get("max_age")
	if raw == "" {
		return false
	}
	maxAge, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || maxAge < 0 {
		return false
	}
	// OIDC Core §3.1.2.1: re-authenticate when the last login is older.
	unit := time.Second
	if fault.On("authz-max-age-minutes") {
		unit = time.Minute
	}
	return time.Since(login.AuthTime) > time.Duration(maxAge)*unit
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, it *interaction, username, errText string) {
	s.displayLogin(w, r, LoginPage{
		ClientName:  clientName(it.auth.Client),
		Action:      s.endpoint("authorize/login"),
		Interaction: it.id,
		CSRFToken:   it.csrfToken,
		Username:    username,
		Error:       errText,
	})
}

func (s *Server) displayLogin(w http.ResponseWriter, r *http.Request, page LoginPage) {
	if err := s.hooks.DisplayLogin.DisplayLogin(w, r, page); err != nil {
		s.log.Error("login page", "error", err)
	}
}

func clientName(c *store.Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.GetID()
}

// handleLogin receives the login form.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	it, ok := s.formInteraction(w, r)
	if !ok {
		return
	}
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	userKey, addrKey := loginKeys(username, sourceAddress(r))
	now := time.Now()
	if wait := s.throttle.wait(now, userKey, addrKey); wait > 0 {
		// Refused before the password is checked, so guessing costs no
		// bcrypt run and learns nothing.
		seconds := int((wait + time.Second - 1) / time.Second)
		s.log.Info("login throttled", "user", username, "wait", wait)
		s.displayLogin(w, r, LoginPage{
			ClientName: clientName(it.auth.Client), Action: s.endpoint("authorize/login"),
			Interaction: it.id, CSRFToken: it.csrfToken, Username: username,
			ErrorCode:  fosite.ErrTemporarilyUnavailable.ErrorField,
			Error:      fmt.Sprintf("Too many failed sign-in attempts. Try again in %d seconds.", seconds),
			RetryAfter: seconds,
		})
		return
	}
	id, err := s.hooks.ValidateUser.ValidateUser(r.Context(), Credentials{Username: username, Password: password}, it.auth)
	if err != nil || password == "" {
		s.throttle.fail(now, userKey, addrKey)
		s.log.Info("login failed", "user", username, "client", it.auth.Client.GetID())
		s.showLogin(w, r, it, username, "Invalid username or password.")
		return
	}
	s.throttle.succeed(userKey)
	login, err := s.startLogin(w, r, id)
	if err != nil {
		s.writeAuthorizeError(w, r, it.request, fosite.ErrServerError.WithWrap(err))
		return
	}
	it.identity, it.authTime, it.loginID = id, login.AuthTime, login.ID
	s.consentStep(w, r, it)
}

// formInteraction checks a login or consent form post: the interaction
// must exist and match both the browser cookie and the CSRF token.
func (s *Server) formInteraction(w http.ResponseWriter, r *http.Request) (*interaction, bool) {
	if err := r.ParseForm(); err != nil {
		s.pages.displayError(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Description: "The form could not be read."})
		return nil, false
	}
	browser := ""
	if c, err := r.Cookie(browserCookie); err == nil && s.browsers.valid(c.Value) {
		browser = c.Value
	}
	it, ok := s.interactions.get(r.PostForm.Get("interaction"), browser, r.PostForm.Get("csrf_token"))
	if !ok {
		s.pages.displayError(w, http.StatusBadRequest, ErrorPage{
			Code:        "invalid_request",
			Description: "This form has expired or was not sent from this browser. Start the sign-in again from the application.",
		})
		return nil, false
	}
	return it, true
}

func (s *Server) consentStep(w http.ResponseWriter, r *http.Request, it *interaction) {
	prompt := strings.Fields(it.request.GetRequestForm().Get("prompt"))
	user := it.identity.Subject
	granted, err := s.store.ConsentedScopes(r.Context(), user, it.auth.Client.GetID())
	if err != nil {
		s.writeAuthorizeError(w, r, it.request, err)
		return
	}
	needConsent := slices.Contains(prompt, "consent") || !coversAll(granted, it.auth.RequestedScopes)
	if !needConsent || fault.On("consent-skipped") {
		s.finishAuthorization(w, r, it)
		return
	}
	if slices.Contains(prompt, "none") && !fault.On("consent-prompt-none-ignored") {
		s.interactions.end(it.id)
		s.writeAuthorizeError(w, r, it.request, fosite.ErrConsentRequired.WithHint("The user has not granted these scopes to this client."))
		return
	}
	page := ConsentPage{
		ClientName:  clientName(it.auth.Client),
		Username:    it.identity.Subject,
		Scopes:      describeScopes(it.auth.RequestedScopes),
		Action:      s.endpoint("authorize/consent"),
		Interaction: it.id,
		CSRFToken:   it.csrfToken,
	}
	if err := s.hooks.DisplayPermissions.DisplayPermissions(w, r, page); err != nil {
		s.log.Error("consent page", "error", err)
	}
}

// handleConsent receives the consent form.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	it, ok := s.formInteraction(w, r)
	if !ok {
		return
	}
	if it.identity == nil {
		s.pages.displayError(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Description: "Log in before granting permissions."})
		return
	}
	if r.PostForm.Get("decision") != "approve" && !fault.On("consent-deny-ignored") {
		s.interactions.end(it.id)
		// RFC 6749 §4.1.2.1: the resource owner denied the request.
		s.writeAuthorizeError(w, r, it.request, fosite.ErrAccessDenied.WithHint("The user denied the request."))
		return
	}
	if err := s.store.GrantConsent(r.Context(), it.identity.Subject, it.auth.Client.GetID(), it.auth.RequestedScopes); err != nil {
		// The form stays valid: the user may approve again once the
		// server can store it.
		s.writeAuthorizeError(w, r, it.request, err)
		return
	}
	s.finishAuthorization(w, r, it)
}

func (s *Server) finishAuthorization(w http.ResponseWriter, r *http.Request, it *interaction) {
	s.interactions.end(it.id)
	ctx := r.Context()
	ar, auth := it.request, it.auth
	auth.GrantedScopes = slices.Clone(auth.RequestedScopes)
	if err := s.hooks.AfterAuthenticate.AfterAuthenticate(ctx, auth, it.identity); err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	for _, scope := range auth.GrantedScopes {
		ar.GrantScope(scope)
	}
	audience, err := s.requestedAudience(ar, auth.Client)
	if err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	for _, a := range audience {
		ar.GrantAudience(a)
	}
	if fault.On("idt-nonce-dropped") {
		ar.GetRequestForm().Del("nonce")
	}
	sess := s.userSession(ctx, auth, it.identity, it.authTime, it.requestedAt, it.loginID)
	resp, err := s.provider.NewAuthorizeResponse(withCodeLifespan(ctx, auth.Client.CodeLifespan), ar, sess)
	if err != nil {
		s.writeAuthorizeError(w, r, ar, err)
		return
	}
	// RFC 9207 §2: identify the issuer in the authorization response.
	switch {
	case fault.On("authz-iss-missing"):
	case fault.On("authz-iss-wrong"):
		resp.AddParameter("iss", s.cfg.PublicURL)
	default:
		resp.AddParameter("iss", s.issuer)
	}
	if fault.On("authz-state-dropped") {
		resp.GetParameters().Del("state")
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// userSession builds the grant's session from the user's identity.
func (s *Server) userSession(ctx context.Context, auth *Authorization, id *Identity, authTime, requestedAt time.Time, loginID string) *Session {
	sess := NewSession()
	clientID := auth.Client.GetID()
	sess.Subject = id.Subject
	sess.Username = id.User.Username
	sess.LoginSessionID = loginID
	sess.Properties = id.Properties

	c := sess.Claims
	c.Subject = id.Subject
	c.Issuer = s.issuer
	if fault.On("idt-iss-trailing-slash") {
		c.Issuer = s.issuer + "/"
	}
	c.AuthTime = authTime.UTC().Truncate(time.Second)
	c.RequestedAt = requestedAt
	c.Extra = map[string]any{"azp": clientID}
	if fault.On("idt-azp-wrong") {
		c.Extra["azp"] = s.issuer
	}
	for _, name := range auth.EssentialClaims {
		if v, ok := userClaims(id.User)[name]; ok {
			c.Extra[name] = v
		}
	}
	if loginID != "" {
		c.Extra["sid"] = loginID
	}
	for k, v := range id.Properties {
		c.Extra[k] = v
	}
	addCustomClaims(c.Extra, id.User, auth.GrantedScopes)

	at := sess.AccessTokenClaims
	at.Subject = id.Subject
	at.Extra = map[string]any{"client_id": clientID}
	for k, v := range id.Properties {
		at.Extra[k] = v
	}
	// RFC 9068 §2.1: the typ header is at+jwt.
	sess.AccessTokenHeader.Extra = map[string]any{"typ": "at+jwt"}
	return sess
}

// currentLogin returns the browser's login session, if any.
func (s *Server) currentLogin(r *http.Request) *store.LoginSession {
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	ls, err := s.store.GetLoginSession(r.Context(), hashCookie(c.Value))
	if err != nil {
		return nil
	}
	return &ls
}

func hashCookie(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: IssuerPath + "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// startLogin creates a server-side login session and its cookie.
func (s *Server) startLogin(w http.ResponseWriter, r *http.Request, id *Identity) (store.LoginSession, error) {
	if old := s.currentLogin(r); old != nil {
		_ = s.store.DeleteLoginSession(r.Context(), old.ID)
	}
	value := randomToken()
	now := time.Now().UTC().Truncate(time.Second)
	ls := store.LoginSession{
		ID: hashCookie(value), Username: id.Subject, AuthTime: now,
		ExpiresAt: now.Add(s.cfg.LoginSessionLifespan),
	}
	if err := s.store.CreateLoginSession(r.Context(), ls); err != nil {
		return ls, err
	}
	http.SetCookie(w, s.cookie(loginCookie, value, int(s.cfg.LoginSessionLifespan.Seconds())))
	return ls, nil
}

// coversAll reports whether granted holds every requested scope.
func coversAll(granted, requested []string) bool {
	for _, sc := range requested {
		if !slices.Contains(granted, sc) {
			return false
		}
	}
	return true
}

// browserID binds interactions to the browser that started them, so a
// login form cannot be replayed from elsewhere (login CSRF). Only values
// this server minted count.
func (s *Server) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(browserCookie); err == nil && s.browsers.valid(c.Value) {
		return c.Value
	}
	v := s.browsers.mint()
	http.SetCookie(w, s.cookie(browserCookie, v, 0))
	return v
}

// writeAuthorizeError answers an authorization request that failed. With a
// trusted redirect URI the error goes back to the client (RFC 6749
// §4.1.2.1, with iss per RFC 9207 §2); otherwise the user sees an error
// page and is not redirected.
func (s *Server) writeAuthorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	rfcErr := s.classify(r, "authorization request", err)
	if ar == nil || !ar.IsRedirectURIValid() || ar.GetRedirectURI() == nil {
		if raw := r.Form.Get("redirect_uri"); raw != "" && fault.On("authz-error-redirect-unregistered") {
			http.Redirect(w, r, raw+"?error="+url.QueryEscape(rfcErr.ErrorField), http.StatusSeeOther)
			return
		}
		status := rfcErr.CodeField
		// A 401 must carry a WWW-Authenticate challenge (RFC 9110
		// §15.5.2), which means nothing to a browser: an unknown client
		// is a bad request here.
		if status == 0 || status == http.StatusUnauthorized {
			status = http.StatusBadRequest
		}
		s.pages.displayError(w, status, ErrorPage{Code: rfcErr.ErrorField, Description: rfcErr.GetDescription()})
		return
	}
	values := url.Values{}
	values.Set("error", rfcErr.ErrorField)
	if d := rfcErr.GetDescription(); d != "" {
		values.Set("error_description", sanitizeDescription(d))
	}
	if st := ar.GetState(); st != "" && !fault.On("authz-error-state-dropped") {
		values.Set("state", st)
	}
	if !fault.On("authz-error-iss-missing") {
		values.Set("iss", s.issuer)
	}

	w.Header().Set("Cache-Control", "no-store")
	redirect := *ar.GetRedirectURI()
	redirect.Fragment = ""
	switch ar.GetResponseMode() {
	case fosite.ResponseModeFormPost:
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		fosite.WriteAuthorizeFormPostResponse(redirect.String(), values, fosite.DefaultFormPostTemplate, w)
	case fosite.ResponseModeFragment:
		http.Redirect(w, r, redirect.String()+"#"+values.Encode(), http.StatusSeeOther)
	default:
		q := redirect.Query()
		for k, v := range values {
			q[k] = v
		}
		redirect.RawQuery = q.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
	}
}
