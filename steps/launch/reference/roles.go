package reference

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oauthtrio/oauthtrio/reference/trio"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/testop"
)

// The reference's resource server and web client at the test OP: their
// registrations there, public for the same reason as the suite's clients.
const (
	rsIntrospectorID     = "reference-resserver"
	rsIntrospectorSecret = "reference-resserver-secret"
	webClientAtOPID      = "reference-client"
	webClientAtOPSecret  = "reference-client-secret"
	rsScope              = "my/scope"
)

// RolesInstance is a reference trio whose resource server and web client
// use the test OP as their issuer, described as a target for the resource
// and client modes.
type RolesInstance struct {
	// Config has the resource and client sections.
	Config *issuer.Config
	trio   *trio.Trio
}

// Close stops the trio.
func (i *RolesInstance) Close(ctx context.Context) error { return i.trio.Close(ctx) }

// StartAgainst starts the trio with its resource server and web client
// pointed at op, which they trust through a CA file written to dir, and
// registers them at op.
func StartAgainst(ctx context.Context, op *testop.OP, dir string) (*RolesInstance, error) {
	caFile := filepath.Join(dir, "test-op-ca.pem")
	if err := os.WriteFile(caFile, op.CertificatePEM(), 0o644); err != nil {
		return nil, err
	}
	audience := "https://resserver.oauthtrio.test"
	t, err := trio.Start(ctx, trio.Config{
		Addr:     "127.0.0.1:0",
		InMemory: true,
		ResourceServer: trio.ExternalResourceServer{
			Issuer: op.Issuer(), Audience: audience,
			ClientID: rsIntrospectorID, ClientSecret: rsIntrospectorSecret,
			RequiredScope: rsScope, CAFile: caFile,
		},
		WebClient: trio.ExternalWebClient{
			Issuer: op.Issuer(), ClientID: webClientAtOPID, ClientSecret: webClientAtOPSecret,
			Scopes: []string{"openid", "profile", "email"}, CAFile: caFile,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the reference trio: %w", err)
	}
	redirect := t.URL() + "/client/application/callback"
	op.Register(testop.Client{ID: rsIntrospectorID, Secret: rsIntrospectorSecret})
	op.Register(testop.Client{ID: webClientAtOPID, Secret: webClientAtOPSecret, RedirectURIs: []string{redirect}})
	cfg := &issuer.Config{
		TLS: issuer.TLS{CAFile: t.CertFile},
		Resource: &issuer.Resource{
			URL:           t.URL() + "/resserver/protected-resources/",
			Audience:      audience,
			Scope:         rsScope,
			RequiresATJWT: true,
			Introspects:   true,
			Introspector:  &issuer.Client{ID: rsIntrospectorID, Secret: rsIntrospectorSecret},
		},
		RelyingParty: &issuer.RelyingParty{
			URL:                  t.URL() + "/client/application/",
			Profile:              "reference",
			Registration:         &issuer.Client{ID: webClientAtOPID, Secret: webClientAtOPSecret, RedirectURI: redirect},
			SupportsIssParameter: true,
		},
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		_ = t.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return &RolesInstance{Config: cfg, trio: t}, nil
}
