package authserver

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/oauthtrio/oauthtrio/reference/store"
)

// handleLogout is OpenID Connect RP-Initiated Logout 1.0 (§2, §3).
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "The logout endpoint accepts GET and POST.")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.pages.displayError(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Description: "The logout request could not be read."})
		return
	}
	hint, clientID := r.Form.Get("id_token_hint"), r.Form.Get("client_id")
	redirect, state := r.Form.Get("post_logout_redirect_uri"), r.Form.Get("state")

	if hint != "" {
		aud, err := s.hintAudience(r, hint)
		if err != nil {
			s.pages.displayError(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Description: "The id_token_hint is not an ID token this server issued."})
			return
		}
		if clientID == "" && len(aud) == 1 {
			clientID = aud[0]
		} else if clientID != "" && !slices.Contains(aud, clientID) {
			s.pages.displayError(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Description: "client_id does not match the id_token_hint."})
			return
		}
	}

	var target *url.URL
	if redirect != "" {
		// §3: the URI must have been registered by the client; exact match.
		var client *store.Client
		if clientID != "" {
			if c, err := s.store.GetClient(ctx, clientID); err == nil {
				client, _ = c.(*store.Client)
			}
		}
		if client == nil || !slices.Contains(client.PostLogoutRedirectURIs, redirect) {
			s.pages.displayError(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Description: "post_logout_redirect_uri is not registered for this client."})
			return
		}
		u, err := url.Parse(redirect)
		if err != nil {
			s.pages.displayError(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Description: "post_logout_redirect_uri is not a URI."})
			return
		}
		target = u
	}

	if login := s.currentLogin(r); login != nil {
		if err := s.store.DeleteLoginSession(ctx, login.ID); err != nil {
			s.log.Error("logout", "error", err)
		}
	}
	http.SetCookie(w, s.cookie(loginCookie, "", -1))

	if target == nil {
		s.pages.displayLogout(w)
		return
	}
	if state != "" {
		q := target.Query()
		q.Set("state", state)
		target.RawQuery = q.Encode()
	}
	http.Redirect(w, r, target.String(), http.StatusSeeOther)
}

// hintAudience verifies an id_token_hint's signature and issuer and returns
// its audience. An expired hint is still a good hint (§2).
func (s *Server) hintAudience(r *http.Request, hint string) ([]string, error) {
	tok, err := s.keys.Signer().Decode(r.Context(), hint)
	var ve *jwt.ValidationError
	if err != nil && !(errors.As(err, &ve) && ve.Errors == jwt.ValidationErrorExpired) {
		return nil, err
	}
	if tok == nil {
		return nil, fosite.ErrInvalidRequest
	}
	if iss, _ := tok.Claims["iss"].(string); iss != s.issuer {
		return nil, fosite.ErrInvalidRequest
	}
	switch aud := tok.Claims["aud"].(type) {
	case string:
		return []string{aud}, nil
	case []any:
		out := make([]string, 0, len(aud))
		for _, a := range aud {
			if v, ok := a.(string); ok {
				out = append(out, v)
			}
		}
		return out, nil
	}
	return nil, fosite.ErrInvalidRequest
}
