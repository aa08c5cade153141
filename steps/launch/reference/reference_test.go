package reference

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/reference/store"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// TestStartDescribesTheTrio checks that the launched trio's description
// is a valid target whose issuer answers and whose fixture-backed roles
// (service, introspector) carry the trio's own credentials.
func TestStartDescribesTheTrio(t *testing.T) {
	ref, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close(context.Background())
	cfg := ref.Config
	for _, role := range issuer.Roles {
		if c, ok := cfg.Client(role); !ok || c.ID == "" {
			t.Errorf("no client for role %s", role)
		}
	}
	if c, _ := cfg.Client(issuer.RoleIntrospector); c.Secret == "" {
		t.Error("the introspector has no secret")
	}
	hc, err := cfg.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(issuer.OpenIDConfigurationURL(cfg.Issuer))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("discovery answered %d", resp.StatusCode)
	}
	// Only the client of the expired-code scenario has codes short enough
	// to wait out; every other flow keeps the server's long ones.
	if cfg.Assign.CodeExpiry != issuer.RoleOther || cfg.Waits.CodeExpiry != expiringCodeLifespan+time.Second {
		t.Errorf("assign.code_expiry %s, waits.code_expiry %s; want other and %s", cfg.Assign.CodeExpiry, cfg.Waits.CodeExpiry, expiringCodeLifespan+time.Second)
	}
	for id, want := range map[string]time.Duration{otherClientID: expiringCodeLifespan, webClientID: 0, publicClientID: 0} {
		c, err := ref.trio.Store.GetClient(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.(*store.Client).CodeLifespan; got != want {
			t.Errorf("client %s: code lifespan %s, want %s", id, got, want)
		}
	}
	if cfg.ClientApp == nil || cfg.ResourceServer == nil || !cfg.Workshop {
		t.Errorf("client app %v, resource server %v, workshop %v", cfg.ClientApp, cfg.ResourceServer, cfg.Workshop)
	}
}
