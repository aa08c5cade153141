package authserver

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// logoutRequest is a parsed RP-Initiated Logout request.
type logoutRequest struct {
	clientID, state string
	client          *store.Client
	target          *url.URL // the registered post_logout_redirect_uri, if any
	hintSubject     string   // the sub of a valid id_token_hint
}

// handleLogout is OpenID Connect RP-Initiated Logout 1.0 (§2, §3). A valid
// id_token_hint for the signed-in user ends the session at once; any other
// request is confirmed by the user first, so a link or a third-party form
// can neither sign a user out nor bounce them to a redirect URI a
// self-registered client chose.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "The logout endpoint accepts GET and POST.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.pages.displayError(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Description: "The logout request could not be read."})
		return
	}
	lr, err := s.parseLogout(r)
	if err != nil {
		s.logoutError(w, r, err)
		return
	}
	login := s.currentLogin(r)
	// §2: the OP SHOULD ask the user unless the hint names the user who
	// is signed in.
	hinted := lr.hintSubject != "" && (login == nil || login.Username == lr.hintSubject)
	if !hinted && !s.logoutConfirmed(r) && !fault.On("logout-redirect-unconfirmed") {
		s.askLogoutConfirmation(w, r, lr)
		return
	}
	if login != nil && !fault.On("logout-session-kept") {
		if err := s.store.DeleteLoginSession(r.Context(), login.ID); err != nil {
			s.logoutError(w, r, err)
			return
		}
	}
	http.SetCookie(w, s.cookie(loginCookie, "", -1))
	if lr.target == nil {
		s.pages.displayLogout(w)
		return
	}
	target := *lr.target
	if lr.state != "" && !fault.On("logout-state-dropped") {
		// §3: state is passed back to the RP.
		q := target.Query()
		q.Set("state", lr.state)
		target.RawQuery = q.Encode()
	}
	http.Redirect(w, r, target.String(), http.StatusSeeOther)
}

// parseLogout checks the hint, the client and the redirect URI.
func (s *Server) parseLogout(r *http.Request) (logoutRequest, error) {
	lr := logoutRequest{clientID: r.Form.Get("client_id"), state: r.Form.Get("state")}
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		aud, sub, err := s.hintClaims(r, hint)
		if err != nil {
			return lr, fosite.ErrInvalidRequest.WithHint("The id_token_hint is not an ID token this server issued.")
		}
		if lr.clientID == "" && len(aud) == 1 {
			lr.clientID = aud[0]
		} else if lr.clientID != "" && !slices.Contains(aud, lr.clientID) {
			return lr, fosite.ErrInvalidRequest.WithHint("client_id does not match the id_token_hint.")
		}
		lr.hintSubject = sub
	}
	if lr.clientID != "" {
		c, err := s.store.GetClient(r.Context(), lr.clientID)
		switch {
		case errors.Is(err, fosite.ErrNotFound):
		case err != nil:
			return lr, err
		default:
			lr.client, _ = c.(*store.Client)
		}
	}
	redirect := r.Form.Get("post_logout_redirect_uri")
	if redirect == "" {
		return lr, nil
	}
	// §3: the URI must have been registered by the client; exact match.
	if (lr.client == nil || !slices.Contains(lr.client.PostLogoutRedirectURIs, redirect)) && !fault.On("logout-unregistered-redirect") {
		return lr, fosite.ErrInvalidRequest.WithHint("post_logout_redirect_uri is not registered for this client.")
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return lr, fosite.ErrInvalidRequest.WithHint("post_logout_redirect_uri is not a URI.")
	}
	lr.target = u
	return lr, nil
}

// logoutError shows the error page; logout never redirects on an error.
func (s *Server) logoutError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.classify(r, "logout", err)
	status := e.CodeField
	if status == 0 || status == http.StatusUnauthorized {
		status = http.StatusBadRequest
	}
	s.pages.displayError(w, status, ErrorPage{Code: e.ErrorField, Description: e.GetDescription()})
}

// logoutToken binds a confirmation form to the browser that was shown it.
func (s *Server) logoutToken(browser string) string {
	return browserCookies{key: deriveKey(s.cfg.GlobalSecret, "logout confirmation")}.mac(browser)
}

// logoutConfirmed reports whether r is the confirmation form's post, from
// the browser the form was shown to.
func (s *Server) logoutConfirmed(r *http.Request) bool {
	if r.Method != http.MethodPost || r.PostForm.Get("confirm") != "yes" {
		return false
	}
	c, err := r.Cookie(browserCookie)
	if err != nil || !s.browsers.valid(c.Value) {
		return false
	}
	return hmac.Equal([]byte(r.PostForm.Get("csrf_token")), []byte(s.logoutToken(c.Value)))
}

func (s *Server) askLogoutConfirmation(w http.ResponseWriter, r *http.Request, lr logoutRequest) {
	page := LogoutConfirmPage{
		Action:    s.endpoint("logout"),
		CSRFToken: s.logoutToken(s.browserID(w, r)),
		State:     lr.state,
	}
	if lr.client != nil {
		page.ClientID, page.ClientName = lr.client.GetID(), clientName(lr.client)
	}
	if lr.target != nil {
		page.PostLogoutRedirectURI = lr.target.String()
	}
	s.pages.displayLogoutConfirm(w, page)
}

// hintClaims verifies an id_token_hint's signature and issuer and returns
// its audience and subject. An expired hint is still a good hint (§2). It
// does not check that the hint was issued to the client named by
// client_id; parseLogout does.
func (s *Server) hintClaims(r *http.Request, hint string) ([]string, string, error) {
	tok, err := s.keys.Signer().Decode(r.Context(), hint)
	var ve *jwt.ValidationError
	if err != nil && !(errors.As(err, &ve) && ve.Errors == jwt.ValidationErrorExpired) && !fault.On("logout-hint-unverified") {
		return nil, "", err
	}
	if tok == nil {
		return nil, "", fosite.ErrInvalidRequest
	}
	if iss, _ := tok.Claims["iss"].(string); iss != s.issuer {
		return nil, "", fosite.ErrInvalidRequest
	}
	sub, _ := tok.Claims["sub"].(string)
	switch aud := tok.Claims["aud"].(type) {
	case string:
		return []string{aud}, sub, nil
	case []any:
		out := make([]string, 0, len(aud))
		for _, a := range aud {
			if v, ok := a.(string); ok {
				out = append(out, v)
			}
		}
		return out, sub, nil
	}
	return nil, "", fosite.ErrInvalidRequest
}
