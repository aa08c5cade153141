package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// Step names shown in "[Error] <Step>: <text>" lines. The IRIS page's names
// are kept where it had the same step (iris-workshop.md §7).
const (
	stepDiscovery     = "Discovery"
	stepAuthorize     = "Authorize"
	stepCallback      = "Callback"
	stepTokenExchange = "TokenExchange"
	stepValidateID    = "ValidateIDToken"
	stepIntrospection = "GetIntrospection"
	stepUserInfo      = "GetUserinfo"
	stepResource      = "ProtectedResource"
	stepDelegated     = "DelegatedResource"
	stepRefresh       = "Refresh"
	stepLogout        = "Logout"
)

// maxClockSkew is how far in the future an ID token's iat may be.
const maxClockSkew = 5 * time.Minute

// stepError is one failed step, as the page shows it.
type stepError struct {
	Step, Text string
}

// serveLogin starts the authorization code flow (OIDC Core §3.1.2.1) with
// PKCE S256 (RFC 7636 §4.2; RFC 9700 §2.1.1 asks confidential clients for it
// too), binding state, nonce and verifier to this browser's session.
func (a *App) serveLogin(w http.ResponseWriter, r *http.Request) {
	sid := a.cookie.sessionID(r)
	if _, ok := a.sessions.load(sid); !ok {
		sid = a.sessions.create()
		a.cookie.set(w, sid)
	}
	d, err := a.discover(r.Context())
	if err != nil {
		a.fail(w, r, sid, stepDiscovery, err)
		return
	}
	p := &pendingAuthorization{
		state:    randomToken(),
		nonce:    randomToken(),
		verifier: oauth2.GenerateVerifier(),
		expires:  time.Now().Add(pendingLifetime),
	}
	// A new login replaces an unfinished one: only the latest request's
	// response is accepted.
	a.sessions.update(sid, func(s *session) { s.pending = p })
	http.Redirect(w, r, authCodeURL(d.oauth2, p), http.StatusFound)
}

// authCodeURL is the authorization request of p: PKCE S256, state and
// nonce, unless a fault leaves one out.
func authCodeURL(c *oauth2.Config, p *pendingAuthorization) string {
	var opts []oauth2.AuthCodeOption
	if !fault.On(FaultNoNonce) {
		opts = append(opts, oidc.Nonce(p.nonce))
	}
	switch {
	case fault.On(FaultNoPKCE):
	case fault.On(FaultPlainPKCE):
		opts = append(opts, oauth2.SetAuthURLParam("code_challenge", p.verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
	default:
		opts = append(opts, oauth2.S256ChallengeOption(p.verifier))
	}
	if fault.On(FaultRedirectURI) {
		opts = append(opts, oauth2.SetAuthURLParam("redirect_uri", c.RedirectURL+"?unregistered"))
	}
	state := p.state
	if fault.On(FaultNoState) {
		state, p.state = "", ""
	}
	return c.AuthCodeURL(state, opts...)
}

// exchangeOptions send the PKCE verifier, unless a fault left PKCE out.
func exchangeOptions(p *pendingAuthorization) []oauth2.AuthCodeOption {
	if fault.On(FaultNoPKCE) {
		return nil
	}
	return []oauth2.AuthCodeOption{oauth2.VerifierOption(p.verifier)}
}

// serveCallback handles the authorization response (RFC 6749 §4.1.2) and
// ends on the page, with the tokens in the session or an error to show.
func (a *App) serveCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sid := a.cookie.sessionID(r)
	var pending *pendingAuthorization
	found := sid != "" && a.sessions.update(sid, func(s *session) {
		// Single use: whatever the outcome, this response ends the request.
		pending, s.pending = s.pending, nil
	})
	if !found || pending == nil || time.Now().After(pending.expires) {
		a.fail(w, r, sid, stepCallback, errors.New("no authorization request is pending in this browser session (it expired, finished already, or was started elsewhere)"))
		return
	}
	q := r.URL.Query()
	// RFC 6749 §10.12: the response must carry the state of this browser's
	// own request, or it may be a forged one (login CSRF).
	if !equalSecret(q.Get("state"), pending.state) && !fault.On(FaultAnyState) {
		a.fail(w, r, sid, stepCallback, errors.New("the state parameter does not match the authorization request; the response is rejected"))
		return
	}
	d, err := a.discover(ctx)
	if err != nil {
		a.fail(w, r, sid, stepDiscovery, err)
		return
	}
	if err := checkResponseIssuer(q, d.meta.IssParameterSupported, a.cfg.Issuer); err != nil && !fault.On(FaultAnyIssParameter) {
		a.fail(w, r, sid, stepCallback, err)
		return
	}
	if code := q.Get("error"); code != "" {
		a.fail(w, r, sid, stepAuthorize, authorizationError(code, q.Get("error_description")))
		return
	}
	code := q.Get("code")
	if code == "" {
		a.fail(w, r, sid, stepCallback, errors.New("the authorization response carries neither code nor error"))
		return
	}
	tok, err := d.oauth2.Exchange(a.clientContext(ctx), code, exchangeOptions(pending)...)
	if err != nil {
		a.fail(w, r, sid, stepTokenExchange, err)
		return
	}
	if err := checkTokenType(tok); err != nil {
		a.fail(w, r, sid, stepTokenExchange, err)
		return
	}
	tokens, err := a.verifyTokens(ctx, d, tok, pending.nonce, nil)
	if err != nil {
		a.fail(w, r, sid, stepValidateID, err)
		return
	}
	fresh, ok := a.sessions.rotate(sid)
	if !ok || !a.sessions.update(fresh, func(s *session) { s.tokens = tokens }) {
		a.fail(w, r, "", stepCallback, errors.New("the session expired during the token exchange"))
		return
	}
	a.cookie.set(w, fresh)
	a.log.Info("authorized", "subject", tokens.subject)
	page := a.paths.page
	if fault.On(FaultTokenInURL) {
		page += "?access_token=" + url.QueryEscape(tok.AccessToken)
	}
	http.Redirect(w, r, page, http.StatusSeeOther)
}

// checkResponseIssuer applies RFC 9207 §2.4: an iss parameter, when present,
// must equal the issuer exactly, and must be present when the issuer
// advertises authorization_response_iss_parameter_supported.
func checkResponseIssuer(q url.Values, advertised bool, issuer string) error {
	if !q.Has("iss") {
		if advertised {
			return errors.New("the authorization response lacks the iss parameter the issuer advertises (RFC 9207 §2.4)")
		}
		return nil
	}
	if got := q.Get("iss"); got != issuer {
		return fmt.Errorf("the authorization response comes from issuer %q, not %q (RFC 9207 §2.4)", got, issuer)
	}
	return nil
}

// authorizationError words an error response (RFC 6749 §4.1.2.1) for the page.
func authorizationError(code, description string) error {
	detail := code
	if description != "" {
		detail += ": " + description
	}
	if code == "access_denied" {
		return fmt.Errorf("the authorization was denied (%s)", detail)
	}
	return fmt.Errorf("the authorization server answered with an error (%s)", detail)
}

// checkTokenType refuses tokens this client cannot use: it only sends bearer
// tokens (RFC 6749 §7.1 asks clients not to use a token type they do not
// understand; the comparison is case-insensitive, RFC 6750 §4).
func checkTokenType(tok *oauth2.Token) error {
	if !strings.EqualFold(tok.TokenType, "bearer") {
		return fmt.Errorf("the token type %q is not Bearer", tok.TokenType)
	}
	return nil
}

// verifyTokens validates the ID token of a token response (OIDC Core
// §3.1.3.7). Without previous tokens it checks a code exchange and the nonce;
// with them it checks a refresh (OIDC Core §12.2), where the ID token is
// optional but, when present, must be about the same subject.
func (a *App) verifyTokens(ctx context.Context, d *discovery, tok *oauth2.Token, nonce string, previous *tokenSet) (*tokenSet, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		if previous != nil {
			return &tokenSet{token: tok, idToken: previous.idToken, idTokenClaims: previous.idTokenClaims, subject: previous.subject}, nil
		}
		return nil, errors.New("the token response carries no id_token (OIDC Core §3.1.3.3)")
	}
	// Signature with the issuer's keys, iss, aud containing the client id,
	// and exp are go-oidc's checks.
	verifier, checked, err := a.idTokenVerifier(ctx, d, raw)
	if err != nil {
		return nil, err
	}
	idt, err := verifier.Verify(a.clientContext(ctx), checked)
	if err != nil {
		return nil, err
	}
	// OIDC Core §2: sub and iat are required; the page and the refresh
	// rely on sub. §3.1.3.7 item 10 lets a client refuse a token issued too
	// far from now: one from the future, beyond clock skew, is forged or
	// from a broken issuer.
	switch {
	case idt.Subject == "" && !fault.On(FaultAnySub):
		return nil, errors.New("the ID token has no sub")
	case fault.On(FaultAnyIAT):
	case idt.IssuedAt.IsZero():
		return nil, errors.New("the ID token has no iat")
	case idt.IssuedAt.After(time.Now().Add(maxClockSkew)):
		return nil, fmt.Errorf("the ID token was issued in the future (iat %s)", idt.IssuedAt.UTC().Format(time.RFC3339))
	}
	switch {
	case previous == nil && idt.Nonce != nonce && !fault.On(FaultAnyNonce):
		// OIDC Core §3.1.3.7 item 11: the nonce sent in the request comes back.
		return nil, errors.New("the ID token's nonce does not match the authorization request")
	case previous != nil && idt.Subject != previous.subject:
		// OIDC Core §12.2: a refreshed ID token is about the same user.
		return nil, fmt.Errorf("the refreshed ID token is about subject %q, not %q", idt.Subject, previous.subject)
	}
	// OIDC Core §3.1.3.8: at_hash is optional in the code flow, but when
	// present it must match the access token it came with.
	if idt.AccessTokenHash != "" && !fault.On(FaultAnyATHash) {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, fmt.Errorf("at_hash: %w", err)
		}
	}
	var claims struct {
		AuthorizedParty string `json:"azp"`
	}
	var all json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return nil, err
	}
	if err := idt.Claims(&all); err != nil {
		return nil, err
	}
	// OIDC Core §3.1.3.7 items 4 and 5: several audiences need an azp, and an
	// azp must name this client.
	switch {
	case claims.AuthorizedParty != "" && claims.AuthorizedParty != a.cfg.ClientID:
		return nil, fmt.Errorf("the ID token's azp %q is not this client", claims.AuthorizedParty)
	case claims.AuthorizedParty == "" && len(idt.Audience) > 1 && !fault.On(FaultOptionalAZP):
		return nil, fmt.Errorf("the ID token has %d audiences but no azp", len(idt.Audience))
	}
	return &tokenSet{token: tok, idToken: raw, idTokenClaims: all, subject: idt.Subject}, nil
}

// serveRefresh uses the refresh token (RFC 6749 §6) and shows the page again.
func (a *App) serveRefresh(w http.ResponseWriter, r *http.Request) {
	sid, sess, ok := a.checkForm(w, r, stepRefresh)
	if !ok {
		return
	}
	if sess.tokens == nil || sess.tokens.token.RefreshToken == "" {
		a.fail(w, r, sid, stepRefresh, errors.New("no refresh token was issued"))
		return
	}
	ctx := r.Context()
	d, err := a.discover(ctx)
	if err != nil {
		a.fail(w, r, sid, stepDiscovery, err)
		return
	}
	// A token holding only the refresh token makes x/oauth2 refresh now; it
	// keeps the old refresh token when the response has none (RFC 6749 §6).
	src := d.oauth2.TokenSource(a.clientContext(ctx), &oauth2.Token{RefreshToken: sess.tokens.token.RefreshToken})
	tok, err := src.Token()
	if err != nil {
		a.fail(w, r, sid, stepRefresh, err)
		return
	}
	if err := checkTokenType(tok); err != nil {
		a.fail(w, r, sid, stepRefresh, err)
		return
	}
	tokens, err := a.verifyTokens(ctx, d, tok, "", sess.tokens)
	if err != nil {
		a.fail(w, r, sid, stepValidateID, err)
		return
	}
	a.sessions.update(sid, func(s *session) { s.tokens = tokens })
	http.Redirect(w, r, a.paths.page, http.StatusSeeOther)
}

// serveLogout ends the local session, then the OP's one through OpenID
// Connect RP-Initiated Logout 1.0 §2 when the issuer offers it.
func (a *App) serveLogout(w http.ResponseWriter, r *http.Request) {
	sid, sess, ok := a.checkForm(w, r, stepLogout)
	if !ok {
		return
	}
	a.sessions.delete(sid)
	a.cookie.clear(w)
	if sess.tokens == nil {
		http.Redirect(w, r, a.paths.page, http.StatusSeeOther)
		return
	}
	d, err := a.discover(r.Context())
	if err != nil {
		a.fail(w, r, "", stepLogout, fmt.Errorf("the local session has ended; the issuer's session may remain: %w", err))
		return
	}
	if d.meta.EndSessionEndpoint == "" {
		http.Redirect(w, r, a.paths.page, http.StatusSeeOther)
		return
	}
	target, err := url.Parse(d.meta.EndSessionEndpoint)
	if err != nil {
		a.fail(w, r, "", stepLogout, fmt.Errorf("end_session_endpoint: %w", err))
		return
	}
	q := target.Query()
	if sess.tokens.idToken != "" {
		q.Set("id_token_hint", sess.tokens.idToken)
	}
	q.Set("client_id", a.cfg.ClientID)
	q.Set("post_logout_redirect_uri", a.cfg.PostLogoutRedirectURL)
	// The session is gone, so nothing checks this state on return; it is
	// sent because the specification lets the RP correlate the redirect.
	q.Set("state", randomToken())
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusSeeOther)
}

// checkForm admits a POST only from this client's own page: the session must
// exist and the form must echo its CSRF token. Otherwise it answers 403.
func (a *App) checkForm(w http.ResponseWriter, r *http.Request, step string) (string, session, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	sid := a.cookie.sessionID(r)
	sess, ok := a.sessions.load(sid)
	if !ok || !equalSecret(r.PostFormValue("csrf_token"), sess.csrf) {
		a.log.Warn("form rejected", "step", step, "reason", "missing or wrong CSRF token")
		v := a.baseView()
		v.Errors = []stepError{{Step: step, Text: "the request carries no valid CSRF token for this session; reload the page and try again"}}
		a.render(w, http.StatusForbidden, v)
		return "", session{}, false
	}
	return sid, sess, true
}

// fail records err for the page and redirects there. Without a live session
// it starts one to carry the message.
func (a *App) fail(w http.ResponseWriter, r *http.Request, sid, step string, err error) {
	a.log.Warn("step failed", "step", step, "error", err)
	e := stepError{Step: step, Text: err.Error()}
	if !a.sessions.update(sid, func(s *session) { s.flash = append(s.flash, e) }) {
		sid = a.sessions.create()
		a.sessions.update(sid, func(s *session) { s.flash = append(s.flash, e) })
		a.cookie.set(w, sid)
	}
	http.Redirect(w, r, a.paths.page, http.StatusSeeOther)
}
