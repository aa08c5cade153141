package steps

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"time"

	"github.com/ory/fosite"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/store"
	"github.com/oauthtrio/oauthtrio/reference/trio"
	"github.com/oauthtrio/oauthtrio/steps/target"
)

// ReferenceOptions tune the built-in reference trio. The self-test uses
// them to inject faults through the trio's own extension points.
type ReferenceOptions struct {
	// Trio is the trio configuration; Addr and InMemory are forced.
	Trio trio.Config
	// Setup runs once the trio is up, before the suite starts.
	Setup func(ctx context.Context, t *trio.Trio) error
	// Timeouts replace the default HTTP and browser timeouts.
	Timeouts target.Timeouts
}

// The suite's own clients at the reference, registered at start with the
// redirect listener's URI.
const (
	refWebClient    = "conformance-web"
	refOtherClient  = "conformance-other"
	refPublicClient = "conformance-public"
	refSecret       = "conformance-secret"
	refPostmanID    = "c4R48FKeWkhGMOzyhUoVlhNpoRPHZd7EUOiJlHAX6UQ"
	refPostmanKey   = "O1ngeS2un6ZgLdIZLB4eAOXbDqhLyhXfpAm379iw7ScEDgJkY87Qzik44shByEHkVDVcd661MKy4ld3Rz4VarA"
)

// referenceCodeLifespan is the reference's code lifetime during a run.
const referenceCodeLifespan = 6 * time.Second

type reference struct {
	trio *trio.Trio
}

func (r *reference) close(ctx context.Context) error {
	return r.trio.Close(ctx)
}

// startReference starts the trio on a free port and describes it as a
// target, with clients whose redirect URI is a local listener.
func startReference(ctx context.Context, opts ReferenceOptions) (*reference, *target.Config, error) {
	tc := opts.Trio
	if tc.AuthServer.AuthorizeCodeLifespan <= 0 {
		// Short enough for the expired-code scenario to wait it out.
		tc.AuthServer.AuthorizeCodeLifespan = referenceCodeLifespan
	}
	if tc.FixtureHashCost == 0 {
		// The in-process reference lives for one run and its fixtures are
		// public: bcrypt's minimum cost keeps logins from dominating the
		// run's CPU time.
		tc.FixtureHashCost = bcrypt.MinCost
	}
	tc.Addr = "127.0.0.1:0"
	tc.PublicURL = ""
	tc.InMemory = true
	t, err := trio.Start(ctx, tc)
	if err != nil {
		return nil, nil, fmt.Errorf("starting the reference trio: %w", err)
	}
	ref := &reference{trio: t}
	// The listener's port is known only once it listens; the runner
	// starts listeners from the configuration, so reserve one here.
	// https, so that the port counts: RFC 8252 §7.3 lets http loopback
	// redirect URIs use any port.
	probe, err := target.NewRedirectListener(target.ListenerOptions{Addr: "127.0.0.1:0", Path: "/callback", TLS: true})
	if err != nil {
		t.Close(ctx)
		return nil, nil, err
	}
	redirect := probe.URL()
	_ = probe.Close()

	secret, err := authserver.HashSecretCost(refSecret, tc.FixtureHashCost)
	if err != nil {
		t.Close(ctx)
		return nil, nil, err
	}
	audience := []string{t.URL() + "/resserver"}
	all := []string{"openid", "profile", "email", "offline_access", "my/scope"}
	newClient := func(id string, public bool) *store.Client {
		c := &store.Client{
			DefaultOpenIDConnectClient: &fosite.DefaultOpenIDConnectClient{
				DefaultClient: &fosite.DefaultClient{
					ID: id, RedirectURIs: []string{redirect},
					GrantTypes:    []string{"authorization_code", "refresh_token"},
					ResponseTypes: []string{"code"}, Scopes: all, Audience: audience, Public: public,
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
	for _, c := range []*store.Client{newClient(refWebClient, false), newClient(refOtherClient, false), newClient(refPublicClient, true)} {
		if err := t.Store.UpsertClient(ctx, c); err != nil {
			t.Close(ctx)
			return nil, nil, err
		}
	}
	if opts.Setup != nil {
		if err := opts.Setup(ctx, t); err != nil {
			t.Close(ctx)
			return nil, nil, err
		}
	}

	web := func(id string) *target.Client {
		return &target.Client{ID: id, Secret: refSecret, AuthMethod: target.AuthClientSecretBasic, RedirectURI: redirect, Scopes: all}
	}
	cfg := &target.Config{
		Issuer: t.Issuer(),
		TLS:    target.TLS{CAFile: t.CertFile},
		Clients: map[target.Role]*target.Client{
			target.RoleWeb:    web(refWebClient),
			target.RoleOther:  web(refOtherClient),
			target.RolePublic: {ID: refPublicClient, AuthMethod: target.AuthNone, RedirectURI: redirect, Scopes: all},
			target.RoleService: {ID: refPostmanID, Secret: refPostmanKey, AuthMethod: target.AuthClientSecretBasic,
				Scopes: []string{"my/scope"}},
			target.RoleIntrospector: {ID: trio.ResourceClientID, Secret: trio.ResourceClientSecret, AuthMethod: target.AuthClientSecretBasic},
		},
		Registration: target.Registration{Enabled: true},
		Users: target.Users{
			Valid: &target.User{Username: "developer", Password: "test", Claims: map[string]any{
				"name": "Miguel de Cervantes Saavedra", "email": "miguel.cervantes@quiijote.es",
			}},
			Invalid: &target.User{Username: "developer", Password: "not-the-password"},
		},
		Profile:        "reference",
		Timeouts:       opts.Timeouts,
		Waits:          target.Waits{CodeReuse: time.Second, CodeExpiry: tc.AuthServer.AuthorizeCodeLifespan + time.Second},
		ResourceServer: &target.ResourceServer{URL: t.URL() + "/resserver/protected-resources/", Scope: "my/scope"},
	}
	return ref, cfg, nil
}

// spkiOfFile reads PEM certificates and returns the base64 SHA-256 of each
// one's SubjectPublicKeyInfo, for Chromium's narrow trust flag.
func spkiOfFile(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls.ca_file: %w", err)
	}
	var out []string
	for {
		var block *pem.Block
		block, raw = pem.Decode(raw)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
		out = append(out, base64.StdEncoding.EncodeToString(sum[:]))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tls.ca_file %s holds no certificate", path)
	}
	return out, nil
}
