package authserver

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// userClaims are the standard claims (OIDC Core §5.1) a user has.
func userClaims(u *store.User) map[string]any {
	c := map[string]any{"preferred_username": u.Username}
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	set("name", u.Name)
	set("given_name", u.GivenName)
	set("family_name", u.FamilyName)
	set("email", u.Email)
	set("phone_number", u.PhoneNumber)
	if u.Email != "" {
		c["email_verified"] = u.EmailVerified
	}
	if !u.UpdatedAt.IsZero() {
		c["updated_at"] = u.UpdatedAt.Unix()
	}
	return c
}

// scopeClaims maps scopes to the claims they release (OIDC Core §5.4).
var scopeClaims = map[string][]string{
	"profile": {"name", "given_name", "family_name", "preferred_username", "updated_at"},
	"email":   {"email", "email_verified"},
}

// customClaimsScope is the scope that releases a user's custom claims
// (store.User.Claims), in the ID token and at UserInfo: they are part of
// the user's profile (OIDC Core §5.4), and a client that asks for profile
// gets them without a scope of their own to register.
const customClaimsScope = "profile"

// addCustomClaims adds the user's custom claims to claims when scopes
// grant them; a claim already set (sub, azp, a standard claim) is kept.
func addCustomClaims(claims map[string]any, u *store.User, scopes []string) {
	if !slices.Contains(scopes, customClaimsScope) {
		return
	}
	for k, v := range u.Claims {
		if _, taken := claims[k]; !taken {
			claims[k] = v
		}
	}
}

// claimsSupported lists every claim this server can return.
var claimsSupported = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid",
	"name", "given_name", "family_name", "preferred_username", "updated_at", "email", "email_verified",
}

// handleUserinfo is the UserInfo endpoint (OIDC Core §5.3), GET or POST.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodGet && (r.Method != http.MethodPost || fault.On("userinfo-post-refused")) {
		w.Header().Set("Allow", "GET, POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "The userinfo endpoint accepts GET and POST.")
		return
	}
	token, err := bearerToken(r)
	if err != nil {
		s.bearerError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if token == "" {
		// RFC 6750 §3.1: no error code when no credentials were sent.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+s.issuer+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error_description": "No access token was sent."})
		return
	}
	// fosite falls back to refresh tokens when the token is no access
	// token; userinfo takes access tokens only (OIDC Core §5.3).
	use, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err == nil && use != fosite.AccessToken && !fault.On("userinfo-refresh-token-accepted") {
		err = fosite.ErrRequestUnauthorized
	}
	if err != nil {
		s.bearerError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired or revoked.")
		return
	}
	if !ar.GetGrantedScopes().Has("openid") {
		s.bearerError(w, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.")
		return
	}
	sess, ok := ar.GetSession().(*Session)
	if !ok || sess.GetUsername() == "" {
		s.bearerError(w, http.StatusForbidden, "insufficient_scope", "The access token does not represent a user.")
		return
	}
	user, err := s.store.GetUser(ctx, sess.GetUsername())
	if err != nil {
		s.bearerError(w, http.StatusUnauthorized, "invalid_token", "The user of this token no longer exists.")
		return
	}
	claims := map[string]any{}
	for k, v := range sess.Properties {
		claims[k] = v
	}
	all := userClaims(user)
	for _, scope := range ar.GetGrantedScopes() {
		if scope == "email" && fault.On("userinfo-email-not-released") {
			continue
		}
		if scope == "profile" && fault.On("userinfo-profile-not-released") {
			continue
		}
		for _, name := range scopeClaims[scope] {
			if v, ok := all[name]; ok {
				claims[name] = v
			}
		}
	}
	if !fault.On("userinfo-sub-missing") {
		claims["sub"] = sess.GetSubject()
	}
	addCustomClaims(claims, user, ar.GetGrantedScopes())
	writeJSON(w, http.StatusOK, claims)
}

// bearerToken reads the access token from the Authorization header or the
// form body (RFC 6750 §2.1, §2.2); a token sent twice is an error (§2).
func bearerToken(r *http.Request) (string, error) {
	var found []string
	for _, h := range r.Header.Values("Authorization") {
		scheme, value, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			found = append(found, strings.TrimSpace(value))
		}
	}
	if r.Method == http.MethodPost {
		if err := checkFormRequest(r); err == nil {
			found = append(found, r.PostForm["access_token"]...)
		}
	}
	found = slices.DeleteFunc(found, func(v string) bool { return v == "" })
	if len(found) > 1 {
		return "", errTokenTwice
	}
	if len(found) == 0 {
		return "", nil
	}
	return found[0], nil
}

type bearerErr string

func (e bearerErr) Error() string { return string(e) }

const errTokenTwice = bearerErr("The access token was sent more than once.")

// bearerError answers per RFC 6750 §3 with a WWW-Authenticate challenge.
func (s *Server) bearerError(w http.ResponseWriter, status int, code, description string) {
	description = sanitizeDescription(description)
	if !fault.On("bearer-no-challenge") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+s.issuer+`", error="`+code+`", error_description="`+description+`"`)
	}
	if status == http.StatusUnauthorized && fault.On("userinfo-invalid-token-400") {
		status = http.StatusBadRequest
	}
	writeJSONError(w, status, code, description)
}
