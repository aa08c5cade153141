// Package reference launches the built-in reference trio in-process on a
// free loopback port and describes it as a target, so the suite can test it
// from outside like any other issuer.
package reference

import (
	"context"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/ory/fosite"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/fixture"
	"github.com/oauthtrio/oauthtrio/reference/store"
	"github.com/oauthtrio/oauthtrio/reference/trio"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// Options tune the launched trio. The self-test uses them to inject faults
// through the trio's own extension points.
type Options struct {
	// Trio is the trio configuration; Addr, PublicURL and InMemory are
	// forced.
	Trio trio.Config
	// Setup runs once the trio is up, before the target is described.
	Setup func(ctx context.Context, t *trio.Trio) error
	// Timeouts replace the default HTTP and browser timeouts.
	Timeouts issuer.Timeouts
}

// The suite's own clients at the reference, registered at start with a
// loopback redirect URI. Their secret is public: the trio lives for one run.
const (
	webClientID    = "conformance-web"
	otherClientID  = "conformance-other"
	publicClientID = "conformance-public"
	clientSecret   = "conformance-secret"
)

// The reference's code lifetimes during a run. Every flow gets ten minutes,
// as IRIS is set up for slow browsers, so that a loaded machine cannot make
// a code expire between the consent and its exchange; only the client the
// expired-code scenario uses (assign.code_expiry) gets codes short enough
// to wait out.
const (
	codeLifespan         = 10 * time.Minute
	expiringCodeLifespan = 5 * time.Second
)

// Timeouts of the launched reference when Options leave them zero: three
// times the defaults for a remote issuer.
const (
	localBrowserTimeout = 3 * issuer.DefaultBrowserTimeout
	localHTTPTimeout    = 3 * issuer.DefaultHTTPTimeout
)

// Instance is a running reference trio and its target configuration.
type Instance struct {
	// Config describes the trio as a target: its issuer, clients, users,
	// resource server and client application.
	Config *issuer.Config
	trio   *trio.Trio
}

// Close stops the trio.
func (i *Instance) Close(ctx context.Context) error { return i.trio.Close(ctx) }

// Start starts the trio and registers the suite's clients.
func Start(ctx context.Context, opts Options) (_ *Instance, err error) {
	tc := opts.Trio
	if tc.AuthServer.AuthorizeCodeLifespan <= 0 {
		tc.AuthServer.AuthorizeCodeLifespan = codeLifespan
	}
	if tc.FixtureHashCost == 0 {
		// The fixtures are public: bcrypt's minimum cost keeps logins from
		// dominating the run's CPU time.
		tc.FixtureHashCost = bcrypt.MinCost
	}
	if len(tc.AuthServer.RegistrationPolicy.GrantTypes) == 0 {
		// The suite registers clients of every kind it tests.
		tc.AuthServer.RegistrationPolicy = trio.OpenRegistration()
	}
	tc.Addr = "127.0.0.1:0"
	tc.PublicURL = ""
	tc.InMemory = true
	t, err := trio.Start(ctx, tc)
	if err != nil {
		return nil, fmt.Errorf("starting the reference trio: %w", err)
	}
	defer func() {
		if err != nil {
			_ = t.Close(context.WithoutCancel(ctx))
		}
	}()

	redirect, err := reserveRedirectURI()
	if err != nil {
		return nil, err
	}
	all := issuer.Scopes{"openid", "profile", "email", "offline_access", "my/scope"}
	if err := registerSuiteClients(ctx, t, tc.FixtureHashCost, redirect, all); err != nil {
		return nil, err
	}
	if opts.Setup != nil {
		if err := opts.Setup(ctx, t); err != nil {
			return nil, err
		}
	}
	timeouts := opts.Timeouts
	// The reference runs on the machine that runs the browser, so a loaded
	// machine slows both at once; the timeouts only bound a hang and must
	// not turn a slow run into failures.
	if timeouts.Browser == 0 {
		timeouts.Browser = localBrowserTimeout
	}
	if timeouts.HTTP == 0 {
		timeouts.HTTP = localHTTPTimeout
	}
	cfg, err := describe(t, timeouts, redirect, all)
	if err != nil {
		return nil, err
	}
	return &Instance{Config: cfg, trio: t}, nil
}

// reserveRedirectURI picks a free port for the suite's redirect listener,
// which the run starts from the configuration. https, so that the port
// counts: RFC 8252 §7.3 lets http loopback redirect URIs use any port.
//
// The port is free now and must still be free when the run listens on
// it, so it is taken below the kernel's ephemeral range (32768 and up on
// Linux), where no port-0 listener of this or a parallel run can land.
func reserveRedirectURI() (string, error) {
	const low, high = 20000, 32768
	for range 100 {
		port := low + mathrand.IntN(high-low)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ln.Close()
		return fmt.Sprintf("https://127.0.0.1:%d/callback", port), nil
	}
	return "", errors.New("no free port for the redirect listener between 20000 and 32767")
}

func registerSuiteClients(ctx context.Context, t *trio.Trio, cost int, redirect string, scopes issuer.Scopes) error {
	secret, err := authserver.HashSecretCost(clientSecret, cost)
	if err != nil {
		return err
	}
	audience := []string{t.URL() + "/resserver"}
	newClient := func(id string, public bool) *store.Client {
		c := &store.Client{
			DefaultOpenIDConnectClient: &fosite.DefaultOpenIDConnectClient{
				DefaultClient: &fosite.DefaultClient{
					ID: id, RedirectURIs: []string{redirect},
					GrantTypes:    []string{"authorization_code", "refresh_token"},
					ResponseTypes: []string{"code"}, Scopes: scopes, Audience: audience, Public: public,
				},
				TokenEndpointAuthMethod: "client_secret_basic",
			},
			Name:                   "oauthtrio conformance suite (" + id + ")",
			PostLogoutRedirectURIs: []string{redirect},
		}
		if public {
			c.TokenEndpointAuthMethod = "none"
			c.RequirePKCE = true
		} else {
			c.Secret = secret
		}
		return c
	}
	other := newClient(otherClientID, false)
	other.CodeLifespan = expiringCodeLifespan
	for _, c := range []*store.Client{newClient(webClientID, false), other, newClient(publicClientID, true)} {
		if err := t.Store.UpsertClient(ctx, c); err != nil {
			return fmt.Errorf("registering the suite's client %s: %w", c.ID, err)
		}
	}
	return nil
}

// describe is the target configuration of the running trio. The service
// and introspector roles are the trio's own fixture clients.
func describe(t *trio.Trio, timeouts issuer.Timeouts, redirect string, scopes issuer.Scopes) (*issuer.Config, error) {
	service, ok := t.Fixtures.ClientFor(fixture.RoleService)
	if !ok {
		return nil, fmt.Errorf("the reference's fixtures name no client with role: %s", fixture.RoleService)
	}
	introspector, _ := t.Fixtures.ClientFor(fixture.RoleResourceServer)
	user, ok := fixtureUser(t.Fixtures, "developer")
	if !ok {
		return nil, fmt.Errorf("the reference's fixtures have no user developer")
	}
	web := func(id string) *issuer.Client {
		return &issuer.Client{ID: id, Secret: clientSecret, AuthMethod: issuer.AuthClientSecretBasic, RedirectURI: redirect, Scopes: scopes, PostLogoutRedirectURI: redirect}
	}
	cfg := &issuer.Config{
		Issuer: t.Issuer(),
		TLS:    issuer.TLS{CAFile: t.CertFile},
		Clients: map[issuer.Role]*issuer.Client{
			issuer.RoleWeb:          web(webClientID),
			issuer.RoleOther:        web(otherClientID),
			issuer.RolePublic:       {ID: publicClientID, AuthMethod: issuer.AuthNone, RedirectURI: redirect, Scopes: scopes},
			issuer.RoleService:      {ID: service.ID, Secret: service.Secret, AuthMethod: issuer.AuthClientSecretBasic, Scopes: service.Scopes},
			issuer.RoleIntrospector: {ID: introspector.ID, Secret: introspector.Secret, AuthMethod: issuer.AuthClientSecretBasic},
		},
		Registration: issuer.Registration{Enabled: true},
		Users: issuer.Users{
			Valid: &issuer.User{Username: user.Username, Password: user.Password, Claims: map[string]any{
				"name": user.Name, "email": user.Email,
			}},
			Invalid: &issuer.User{Username: user.Username, Password: "not-" + user.Password},
		},
		Profile:        "reference",
		Timeouts:       timeouts,
		Waits:          issuer.Waits{CodeReuse: time.Second, CodeExpiry: expiringCodeLifespan + time.Second},
		Assign:         issuer.Assignments{CodeExpiry: issuer.RoleOther},
		ResourceServer: &issuer.ResourceServer{URL: t.URL() + "/resserver/protected-resources/", Scope: "my/scope"},
		ClientApp:      &issuer.ClientApp{URL: t.URL() + "/client/application/", RedirectURI: t.URL() + "/client/application/callback"},
		Workshop:       true,
	}
	cfg.ApplyDefaults()
	return cfg, cfg.Validate()
}

func fixtureUser(f *fixture.File, username string) (fixture.User, bool) {
	i := slices.IndexFunc(f.Users, func(u fixture.User) bool { return u.Username == username })
	if i < 0 {
		return fixture.User{}, false
	}
	return f.Users[i], true
}
