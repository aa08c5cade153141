package authserver

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// grantTypes are the grants this server implements; discovery lists them.
var grantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}

// handleToken is the token endpoint (RFC 6749 §3.2).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		// RFC 6749 §3.2: the client MUST use POST.
		w.Header().Set("Allow", "POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint accepts POST only.")
		return
	}
	if err := checkFormRequest(r); err != nil {
		writeRFCError(w, err)
		return
	}
	grant := r.PostForm.Get("grant_type")
	switch {
	case grant == "":
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The grant_type parameter is missing.")
		return
	case !contains(grantTypes, grant) && !fault.On("token-unsupported-grant-invalid-request"):
		// RFC 6749 §5.2; fosite would say invalid_request.
		writeJSONError(w, http.StatusBadRequest, errUnsupportedGrantType.ErrorField, "The grant type "+grant+" is not supported.")
		return
	}

	if err := requireClientAuthentication(r); err != nil {
		s.writeTokenError(w, r, err)
		return
	}
	if grant == "client_credentials" {
		if err := s.refusePublicClient(r); err != nil {
			s.writeTokenError(w, r, err)
			return
		}
	}

	sess := NewSession()
	ar, err := s.provider.NewAccessRequest(ctx, r, sess)
	if err != nil {
		s.writeTokenError(w, r, err)
		return
	}
	if ar.GetGrantTypes().ExactOne("refresh_token") {
		if err := narrowRefreshScope(ar); err != nil {
			s.writeTokenError(w, r, err)
			return
		}
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		if err := s.grantClientCredentials(r, ar, sess); err != nil {
			s.writeTokenError(w, r, err)
			return
		}
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		if errors.Is(err, fosite.ErrTokenExpired) && !fault.On("token-expired-code-invalid-request") {
			// fosite notices an expired code only here and calls it
			// invalid_request; RFC 6749 §5.2 says invalid_grant.
			err = fosite.ErrInvalidGrant.WithHint("The authorization code has expired.")
		}
		s.writeTokenError(w, r, err)
		return
	}
	// IRIS returns token properties as members of the token response.
	if granted, ok := ar.GetSession().(*Session); ok {
		for k, v := range granted.Properties {
			if resp.GetExtra(k) == nil && !reservedTokenMember[k] {
				resp.SetExtra(k, v)
			}
		}
	}
	if fault.On("token-expires-in-null") {
		resp.SetExtra("expires_in", nil)
	}
	if fault.On("token-no-store-missing") {
		// The bug: the response encoded by hand, without the caching
		// headers fosite's writer adds.
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_ = json.NewEncoder(w).Encode(resp.ToMap())
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

var reservedTokenMember = map[string]bool{
	"access_token": true, "token_type": true, "expires_in": true, "refresh_token": true,
	"scope": true, "id_token": true, "state": true, "issued_token_type": true,
}

// narrowRefreshScope applies a refresh request's scope (RFC 6749 §6): it
// must not include a scope not originally granted, and a narrower one
// narrows the new access token while the new refresh token keeps the
// original scope. fosite ignores the parameter and re-grants everything.
// The check runs before the response, so a refused request leaves the
// refresh token unused.
func narrowRefreshScope(ar fosite.AccessRequester) error {
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	sess.RefreshScopes = nil // a stored session may carry the last narrowing
	requested := strings.Fields(ar.GetRequestForm().Get("scope"))
	if len(requested) == 0 {
		return nil
	}
	original := ar.GetGrantedScopes()
	for _, scope := range requested {
		if !original.Has(scope) && !fault.On("refresh-scope-widening") {
			return fosite.ErrInvalidScope.WithHintf("The scope %q was not granted to this refresh token.", scope)
		}
	}
	req, ok := ar.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected access request type")
	}
	sess.RefreshScopes = slices.Clone([]string(original))
	req.GrantedScope = fosite.Arguments(slices.Compact(slices.Sorted(slices.Values(requested))))
	return nil
}

// refusePublicClient answers a public client's client_credentials request
// the way RFC 6749 §5.2 says (unauthorized_client); fosite says
// invalid_grant. Only confidential clients may use the grant (§4.4).
func (s *Server) refusePublicClient(r *http.Request) error {
	if r.Header.Get("Authorization") != "" {
		return nil
	}
	c, err := s.store.GetClient(r.Context(), r.PostForm.Get("client_id"))
	if err != nil || !c.IsPublic() {
		return nil // fosite authenticates the client and reports the rest
	}
	return fosite.ErrUnauthorizedClient.WithHint("A public client cannot use the client_credentials grant.")
}

// grantClientCredentials grants what fosite validated but leaves to the
// application: scopes, audience and the token's subject (RFC 6749 §4.4).
func (s *Server) grantClientCredentials(r *http.Request, ar fosite.AccessRequester, sess *Session) error {
	client, ok := ar.GetClient().(*store.Client)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected client type")
	}
	props, err := s.hooks.ValidateClient.ValidateClient(r.Context(), client, ar.GetRequestedScopes())
	if err != nil {
		var rfc *fosite.RFC6749Error
		if errors.As(err, &rfc) {
			return err
		}
		return fosite.ErrUnauthorizedClient.WithHint("The client was refused.").WithWrap(err)
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	audience, err := s.requestedAudience(ar, client)
	if err != nil {
		return err
	}
	for _, a := range audience {
		if !fault.On("cc-audience-dropped") {
			ar.GrantAudience(a)
		}
	}
	id := client.GetID()
	sess.Subject = id
	sess.Properties = props
	sess.AccessTokenClaims.Subject = id
	sess.AccessTokenClaims.Extra = map[string]any{"client_id": id}
	if fault.On("cc-client-id-claim-missing") {
		delete(sess.AccessTokenClaims.Extra, "client_id")
	}
	for k, v := range props {
		sess.AccessTokenClaims.Extra[k] = v
	}
	sess.AccessTokenHeader.Extra = map[string]any{"typ": "at+jwt"}
	if fault.On("cc-typ-jwt") {
		sess.AccessTokenHeader.Extra["typ"] = "JWT"
	}
	return nil
}

// writeTokenError writes an RFC 6749 §5.2 error. A failed client
// authentication is a 401, and a 401 carries a WWW-Authenticate challenge
// naming the scheme the server supports (RFC 6749 §5.2, RFC 9110 §15.5.2),
// whether or not the client tried HTTP Basic.
func (s *Server) writeTokenError(w http.ResponseWriter, r *http.Request, err error) {
	e := s.classify(r, "token endpoint", err)
	if e.ErrorField == fosite.ErrInvalidClient.ErrorField {
		if !fault.On("token-401-no-challenge") {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+s.issuer+`", charset="UTF-8"`)
		}
		e = e.WithHint("")
		status := http.StatusUnauthorized
		if fault.On("token-invalid-client-400") {
			status = http.StatusBadRequest
		}
		writeJSONError(w, status, e.ErrorField, e.GetDescription())
		return
	}
	writeRFCError(w, e)
}

// requireClientAuthentication refuses a request that names no client at
// all. RFC 6749 §5.2 calls that invalid_client; fosite says
// invalid_request.
func requireClientAuthentication(r *http.Request) error {
	if r.Header.Get("Authorization") == "" && r.PostForm.Get("client_id") == "" {
		return fosite.ErrInvalidClient.WithHint("The request carries no client authentication.")
	}
	return nil
}

// checkFormRequest enforces the form encoding RFC 6749 §3.2 and RFC 7662 /
// RFC 7009 require, and refuses repeated parameters (RFC 6749 §3.2).
func checkFormRequest(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return fosite.ErrInvalidRequest.WithHint("The body must be application/x-www-form-urlencoded.")
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fosite.ErrInvalidRequest.WithHint("The request body is too large.")
		}
		return fosite.ErrInvalidRequest.WithHint("The request body could not be parsed.")
	}
	for name, values := range r.PostForm {
		if len(values) > 1 && name != "resource" && name != "audience" {
			return fosite.ErrInvalidRequest.WithHintf("The parameter %q is included more than once.", name)
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
