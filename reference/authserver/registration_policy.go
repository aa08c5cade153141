package authserver

import (
	"fmt"
	"slices"
)

// RegistrationPolicy is what an anonymous RFC 7591 registration may
// obtain. Anyone who reaches the registration endpoint can register, so a
// self-registered client gets only what this policy lists: nobody granted
// it more.
type RegistrationPolicy struct {
	// GrantTypes a registration may ask for; default authorization_code
	// and refresh_token.
	GrantTypes []string
	// Scopes a registered client may request; default the OpenID Connect
	// scopes (openid profile email offline_access). Asking for more
	// registers the client with the allowed part (RFC 7591 §2 lets the
	// server narrow the scope).
	Scopes []string
	// Audience is given to every registered client; default none, so
	// their tokens reach no resource server.
	Audience []string
}

// DefaultRegistrationPolicy lets a client sign users in with OpenID
// Connect and nothing else.
func DefaultRegistrationPolicy() RegistrationPolicy {
	return RegistrationPolicy{
		GrantTypes: []string{"authorization_code", "refresh_token"},
		Scopes:     []string{"openid", "profile", "email", "offline_access"},
	}
}

func (p *RegistrationPolicy) defaults() error {
	def := DefaultRegistrationPolicy()
	if len(p.GrantTypes) == 0 {
		p.GrantTypes = def.GrantTypes
	}
	if len(p.Scopes) == 0 {
		p.Scopes = def.Scopes
	}
	for _, g := range p.GrantTypes {
		if !slices.Contains(grantTypes, g) {
			return fmt.Errorf("authserver: registration policy: unknown grant type %q", g)
		}
	}
	for _, sc := range p.Scopes {
		if !slices.Contains(scopeNames(), sc) {
			return fmt.Errorf("authserver: registration policy: unknown scope %q", sc)
		}
	}
	return nil
}
