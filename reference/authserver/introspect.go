package authserver

import (
	"context"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// authenticateClient authenticates the caller of the introspection and
// revocation endpoints the way the token endpoint does.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request) (*store.Client, error) {
	f, ok := s.provider.(*fosite.Fosite)
	if !ok {
		return nil, fosite.ErrServerError.WithDebug("provider is not *fosite.Fosite")
	}
	c, err := f.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		return nil, err
	}
	client, ok := c.(*store.Client)
	if !ok {
		return nil, fosite.ErrServerError.WithDebug("unexpected client type")
	}
	if client.IsPublic() {
		// RFC 7662 §2.1 requires the caller to be authorized; a public
		// client proves nothing.
		return nil, fosite.ErrInvalidClient.WithHint("Public clients may not call this endpoint.")
	}
	return client, nil
}

// handleIntrospection is the RFC 7662 introspection endpoint.
func (s *Server) handleIntrospection(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "The introspection endpoint accepts POST only.")
		return
	}
	if err := checkFormRequest(r); err != nil {
		writeRFCError(w, err)
		return
	}
	var caller *store.Client
	err := requireClientAuthentication(r)
	if err == nil {
		caller, err = s.authenticateClient(ctx, r)
	}
	if fault.On("introspect-no-auth") {
		caller, err = &store.Client{MayIntrospect: true}, nil
	}
	if err != nil {
		s.writeTokenError(w, r, err)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	use := fosite.AccessToken
	if r.PostForm.Get("token_type_hint") == "refresh_token" {
		use = fosite.RefreshToken
	}
	tokenUse, ar, err := s.provider.IntrospectToken(ctx, token, use, NewSession())
	if err != nil && store.Unavailable(err) {
		writeRFCError(w, s.classify(r, "introspection", err))
		return
	}
	if err != nil {
		// RFC 7662 §2.2: inactive, unknown and malformed tokens alike.
		if fault.On("introspect-unknown-error") {
			writeJSONError(w, http.StatusBadRequest, "invalid_token", "The token is unknown.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"active": false})
		return
	}
	// A client learns only about its own tokens unless it is a resource
	// server allowed to introspect (fosite does not check this).
	if !caller.MayIntrospect && ar.GetClient().GetID() != caller.GetID() {
		writeJSON(w, http.StatusOK, map[string]bool{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, s.introspectionResponse(tokenUse, ar))
}

func (s *Server) introspectionResponse(use fosite.TokenUse, ar fosite.AccessRequester) map[string]any {
	resp := map[string]any{}
	sess, _ := ar.GetSession().(*Session)
	if sess != nil {
		for k, v := range sess.Properties {
			resp[k] = v
		}
	}
	resp["active"] = true
	resp["iss"] = s.issuer
	resp["client_id"] = ar.GetClient().GetID()
	if scopes := ar.GetGrantedScopes(); len(scopes) > 0 {
		resp["scope"] = strings.Join(scopes, " ")
	}
	if aud := ar.GetGrantedAudience(); len(aud) > 0 {
		resp["aud"] = []string(aud)
	}
	if !ar.GetRequestedAt().IsZero() {
		resp["iat"] = ar.GetRequestedAt().Unix()
	}
	if sess != nil {
		tokenType := fosite.AccessToken
		if use == fosite.RefreshToken {
			tokenType = fosite.RefreshToken
			// Tells a resource server that this is no access token
			// (fosite answers for both kinds on one endpoint).
			resp["token_type"] = "refresh_token"
		} else {
			resp["token_type"] = "Bearer"
		}
		if exp := sess.GetExpiresAt(tokenType); !exp.IsZero() {
			resp["exp"] = exp.Unix()
		}
		if sess.GetSubject() != "" {
			resp["sub"] = sess.GetSubject()
		}
		if sess.GetUsername() != "" {
			resp["username"] = sess.GetUsername()
		}
	}
	return resp
}

// handleRevocation is the RFC 7009 revocation endpoint.
func (s *Server) handleRevocation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "The revocation endpoint accepts POST only.")
		return
	}
	if err := checkFormRequest(r); err != nil {
		writeRFCError(w, err)
		return
	}
	if r.PostForm.Get("token") == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	err := requireClientAuthentication(r)
	if err == nil && fault.On("revoke-unknown-400") {
		// The bug looks the token up first and calls a miss an error.
		if _, _, ierr := s.provider.IntrospectToken(ctx, r.PostForm.Get("token"), fosite.AccessToken, NewSession()); ierr != nil {
			writeJSONError(w, http.StatusBadRequest, "invalid_request", "The token is unknown.")
			return
		}
	}
	if err == nil {
		err = s.provider.NewRevocationRequest(ctx, r)
	}
	if err == nil {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return
	}
	// ErrorToRFC6749Error dereferences its argument: never pass it nil.
	e := fosite.ErrorToRFC6749Error(err)
	switch {
	case e.ErrorField == fosite.ErrUnauthorizedClient.ErrorField && fault.On("revoke-foreign-token-200"):
		w.WriteHeader(http.StatusOK)
	case e.ErrorField == fosite.ErrUnauthorizedClient.ErrorField:
		// RFC 7009 §2.1: the token was issued to another client: refuse.
		writeJSONError(w, http.StatusBadRequest, "unauthorized_client", "The token was not issued to this client.")
	case e.ErrorField == fosite.ErrInvalidClient.ErrorField:
		s.writeTokenError(w, r, err)
	case e.ErrorField == fosite.ErrInvalidRequest.ErrorField, e.ErrorField == "unsupported_token_type":
		writeRFCError(w, err)
	case e.CodeField >= 500 || e.ErrorField == errUnknownName:
		// Retrying may work; a server_error would read as final.
		s.classify(r, "revocation", err)
		writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The token could not be revoked now; retry later.")
	default:
		// RFC 7009 §2.2: an invalid or unknown token is not an error.
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}
}
