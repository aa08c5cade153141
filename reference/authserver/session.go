package authserver

import (
	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what fosite keeps with every grant. No fosite session serves
// both JWT access tokens and ID tokens, so this one carries both sets of
// claims, plus the token properties hooks add (IRIS's SetTokenProperty).
type Session struct {
	*openid.DefaultSession `json:"oidc"`

	AccessTokenClaims *jwt.JWTClaims `json:"access_token_claims"`
	AccessTokenHeader *jwt.Headers   `json:"access_token_header"`

	// Properties are custom claims that appear in the access token, the ID
	// token, the token response, userinfo and introspection.
	Properties map[string]any `json:"properties,omitempty"`
	// LoginSessionID names the login session that authorized the grant; it
	// is the ID token's sid.
	LoginSessionID string `json:"login_session_id,omitempty"`
	// RefreshScopes is the grant's full scope while a refresh request
	// narrows the access token's (RFC 6749 §6); empty otherwise.
	RefreshScopes []string `json:"refresh_scopes,omitempty"`
}

// RefreshTokenScopes implements store.RefreshScoper.
func (s *Session) RefreshTokenScopes() []string { return s.RefreshScopes }

// NewSession returns an empty session, the prototype fosite loads into.
func NewSession() *Session {
	return &Session{
		DefaultSession: &openid.DefaultSession{
			Claims:  &jwt.IDTokenClaims{},
			Headers: &jwt.Headers{},
		},
		AccessTokenClaims: &jwt.JWTClaims{},
		AccessTokenHeader: &jwt.Headers{},
	}
}

// GetJWTClaims implements oauth2.JWTSessionContainer.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.AccessTokenClaims == nil {
		s.AccessTokenClaims = &jwt.JWTClaims{}
	}
	return s.AccessTokenClaims
}

// GetJWTHeader implements oauth2.JWTSessionContainer.
func (s *Session) GetJWTHeader() *jwt.Headers {
	if s.AccessTokenHeader == nil {
		s.AccessTokenHeader = &jwt.Headers{}
	}
	return s.AccessTokenHeader
}

// GetExtraClaims implements fosite.ExtraClaimsSession.
func (s *Session) GetExtraClaims() map[string]any {
	return s.Properties
}

// Clone deep-copies the whole session. The promoted DefaultSession.Clone
// would return a bare *openid.DefaultSession and break the refresh grant.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	return deepcopy.Copy(s).(*Session)
}
