package roles

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/features"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// TestEveryNeedIsDecided fails when a feature of a role carries a @needs:
// tag its runner does not decide: the scenario would be not applicable
// for ever.
func TestEveryNeedIsDecided(t *testing.T) {
	for dir, needs := range map[string]map[string]capability{
		"resource-server": resourceNeeds(&issuer.Resource{}),
		"client":          clientNeeds(&issuer.RelyingParty{}),
	} {
		files, err := fs.Sub(features.Roles, dir)
		if err != nil {
			t.Fatal(err)
		}
		scenarios, err := features.Scenarios(files)
		if err != nil {
			t.Fatal(err)
		}
		if len(scenarios) == 0 {
			t.Errorf("%s: no scenarios", dir)
		}
		for _, sc := range scenarios {
			for _, tag := range sc.Tags {
				if name, ok := strings.CutPrefix(tag, "needs:"); ok {
					if _, decided := needs[name]; !decided {
						t.Errorf("%s: %q needs %s, which the runner does not decide", dir, sc.Name, name)
					}
				}
			}
		}
	}
}

func TestClientProfilesLoad(t *testing.T) {
	for _, name := range []string{"reference", "openid-client-rp"} {
		p, err := LoadClientProfile(name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != name || p.Start == "" || p.Refused.Selector == "" {
			t.Errorf("%s: %+v", name, p)
		}
	}
	if _, err := LoadClientProfile("nonesuch"); err == nil || !strings.Contains(err.Error(), "have: openid-client-rp, reference") {
		t.Errorf("an unknown profile: %v", err)
	}
}
