// Package store keeps the reference authorization server's state: clients,
// users, login sessions, signing keys and every grant fosite issues. It
// implements fosite's narrow storage interfaces on an embedded SQLite
// database, so a restart of `oauthtrio serve` loses nothing.
package store

import (
	"time"

	"github.com/ory/fosite"
)

// Client is a registered OAuth 2.0 client. It is fosite's OpenID Connect
// client plus the registration metadata the reference needs.
type Client struct {
	*fosite.DefaultOpenIDConnectClient

	// Name is the human-readable client_name shown on the consent page.
	Name string `json:"client_name"`
	// PostLogoutRedirectURIs are the only targets RP-initiated logout may
	// redirect to (OpenID Connect RP-Initiated Logout §3).
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// MayIntrospect lets a client (typically a resource server) call the
	// introspection endpoint for tokens it does not own (RFC 7662 §2.1).
	MayIntrospect bool `json:"may_introspect,omitempty"`
	// RequirePKCE refuses authorization requests without a code_challenge.
	RequirePKCE bool `json:"require_pkce,omitempty"`
	// CodeLifespan, when set, replaces the server's authorization code
	// lifetime for this client's codes.
	CodeLifespan time.Duration `json:"code_lifespan,omitempty"`
	// RegistrationAccessTokenHash is set for dynamically registered
	// clients (RFC 7592); it is a SHA-256 hash, never the token itself.
	RegistrationAccessTokenHash []byte `json:"registration_access_token_hash,omitempty"`
	// Dynamic marks a client registered through RFC 7591 rather than
	// configured; unused ones are purged.
	Dynamic bool `json:"dynamic,omitempty"`
	// CreatedAt is when the client was registered.
	CreatedAt time.Time `json:"created_at"`
}

// User is a resource owner who can log in at the authorization server.
type User struct {
	Username      string    `json:"username"`
	PasswordHash  []byte    `json:"password_hash"`
	Name          string    `json:"name,omitempty"`
	GivenName     string    `json:"given_name,omitempty"`
	FamilyName    string    `json:"family_name,omitempty"`
	Email         string    `json:"email,omitempty"`
	EmailVerified bool      `json:"email_verified"`
	PhoneNumber   string    `json:"phone_number,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Claims are the user's custom claims (groups, roles, a tenant),
	// released with the profile scope; their names are none of the
	// registered or standard claims (fixture validation sees to it).
	Claims map[string]any `json:"claims,omitempty"`
}

// LoginSession is the server side of the authorization server's login
// cookie. ID is the SHA-256 hash of the cookie value.
type LoginSession struct {
	ID        string
	Username  string
	AuthTime  time.Time
	ExpiresAt time.Time
}

// SigningKey is one of the authorization server's JOSE signing keys.
// PrivateJWK is the private key as a JSON Web Key. A key stays published in
// the JWKS until RetireAt, so tokens it signed can still be verified.
type SigningKey struct {
	KID        string
	Algorithm  string
	PrivateJWK []byte
	CreatedAt  time.Time
	// Active marks the key that signs new tokens; exactly one is active.
	Active bool
	// RetireAt is zero while the key is active or unbounded.
	RetireAt time.Time
}
