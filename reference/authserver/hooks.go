package authserver

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// The hooks are the Go counterparts of the IRIS customisation classes
// (%OAuth2.Server.Authenticate and %OAuth2.Server.Validate). Each is a small
// interface; Hooks fills the ones left nil with the defaults.

// Authorization describes an authorization request while it is processed.
// Hooks may change GrantedScopes and add EssentialClaims.
type Authorization struct {
	Client          *store.Client
	RequestedScopes []string
	GrantedScopes   []string
	// EssentialClaims are user claims put in the ID token whatever the
	// scopes (IRIS: an essential claim added in BeforeAuthenticate).
	EssentialClaims []string
	Form            map[string][]string
}

// Identity is the outcome of a successful ValidateUser.
type Identity struct {
	Subject string
	User    *store.User
	// Properties are custom claims for the access token, ID token, token
	// response, userinfo and introspection (IRIS SetTokenProperty).
	Properties map[string]any
}

// ErrInvalidCredentials is what a UserValidator returns for a wrong
// username or password; the login page is shown again with an error.
var ErrInvalidCredentials = errors.New("invalid username or password")

// BeforeAuthenticator runs when an authorization request arrives, before
// the login page (IRIS BeforeAuthenticate).
type BeforeAuthenticator interface {
	BeforeAuthenticate(ctx context.Context, a *Authorization) error
}

// AfterAuthenticator runs after login and consent, before tokens are
// issued (IRIS AfterAuthenticate).
type AfterAuthenticator interface {
	AfterAuthenticate(ctx context.Context, a *Authorization, id *Identity) error
}

// Credentials are what ValidateUser checks. Authenticated is set when the
// user already has a login session and no password was asked for (IRIS
// calls ValidateUser with an empty password then).
type Credentials struct {
	Username      string
	Password      string
	Authenticated bool
}

// UserValidator checks a user's credentials and builds the identity the
// tokens describe (IRIS ValidateUser).
type UserValidator interface {
	ValidateUser(ctx context.Context, cred Credentials, a *Authorization) (*Identity, error)
}

// ClientValidator admits a client to the client credentials grant and may
// add properties to its tokens (IRIS ValidateClient).
type ClientValidator interface {
	ValidateClient(ctx context.Context, client *store.Client, scopes []string) (properties map[string]any, err error)
}

// LoginDisplay renders the login page (IRIS DisplayLogin).
type LoginDisplay interface {
	DisplayLogin(w http.ResponseWriter, r *http.Request, page LoginPage) error
}

// PermissionsDisplay renders the consent page (IRIS DisplayPermissions).
type PermissionsDisplay interface {
	DisplayPermissions(w http.ResponseWriter, r *http.Request, page ConsentPage) error
}

// Hooks bundles the customisation points; nil members get the defaults.
type Hooks struct {
	BeforeAuthenticate BeforeAuthenticator
	AfterAuthenticate  AfterAuthenticator
	ValidateUser       UserValidator
	ValidateClient     ClientValidator
	DisplayLogin       LoginDisplay
	DisplayPermissions PermissionsDisplay
}

func (h Hooks) withDefaults(users UserLookup, pages *Pages) Hooks {
	if h.BeforeAuthenticate == nil {
		h.BeforeAuthenticate = noHook{}
	}
	if h.AfterAuthenticate == nil {
		h.AfterAuthenticate = noHook{}
	}
	if h.ValidateUser == nil {
		h.ValidateUser = PasswordValidator{Users: users}
	}
	if h.ValidateClient == nil {
		h.ValidateClient = noHook{}
	}
	if h.DisplayLogin == nil {
		h.DisplayLogin = pages
	}
	if h.DisplayPermissions == nil {
		h.DisplayPermissions = pages
	}
	return h
}

type noHook struct{}

func (noHook) BeforeAuthenticate(context.Context, *Authorization) error { return nil }
func (noHook) AfterAuthenticate(context.Context, *Authorization, *Identity) error {
	return nil
}
func (noHook) ValidateClient(context.Context, *store.Client, []string) (map[string]any, error) {
	return nil, nil
}

// UserLookup finds users by name.
type UserLookup interface {
	GetUser(ctx context.Context, username string) (*store.User, error)
}

// PasswordValidator is the default ValidateUser: the user must exist and
// the password must match its bcrypt hash.
type PasswordValidator struct {
	Users UserLookup
}

// dummyHash keeps the time of a login with an unknown user close to that of
// a wrong password, so response times do not reveal which users exist. It
// is made at the first such login, not when the package loads: bcrypt at
// SecretCost would cost every start of the binary, check included.
var dummyHash = sync.OnceValue(func() []byte { return mustHash("not-a-password") })

func (v PasswordValidator) ValidateUser(ctx context.Context, cred Credentials, _ *Authorization) (*Identity, error) {
	u, err := v.Users.GetUser(ctx, cred.Username)
	if err != nil || u == nil {
		_ = comparePassword(dummyHash(), cred.Password)
		return nil, ErrInvalidCredentials
	}
	if cred.Authenticated {
		return &Identity{Subject: u.Username, User: u}, nil
	}
	if comparePassword(u.PasswordHash, cred.Password) != nil && !fault.On("login-any-password") {
		return nil, ErrInvalidCredentials
	}
	return &Identity{Subject: u.Username, User: u}, nil
}
