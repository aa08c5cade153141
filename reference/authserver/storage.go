package authserver

import (
	"context"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"

	"github.com/oauthtrio/oauthtrio/reference/store"
)

// Storage is everything the authorization server keeps: fosite's storage
// interfaces plus users, registered clients and login sessions.
// *store.Store implements it; a wrapper can change what it returns, which
// is how tests put faults into the server without touching its code.
type Storage interface {
	fosite.ClientManager
	oauth2.CoreStorage
	oauth2.TokenRevocationStorage
	openid.OpenIDConnectRequestStorage
	pkce.PKCERequestStorage
	UserLookup

	CreateClient(ctx context.Context, c *store.Client) error
	CreateLoginSession(ctx context.Context, ls store.LoginSession) error
	GetLoginSession(ctx context.Context, id string) (store.LoginSession, error)
	DeleteLoginSession(ctx context.Context, id string) error
	GrantConsent(ctx context.Context, subject, clientID string, scopes []string) error
	ConsentedScopes(ctx context.Context, subject, clientID string) ([]string, error)
}

var _ Storage = (*store.Store)(nil)
