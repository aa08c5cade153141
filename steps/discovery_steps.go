package steps

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// registerDiscoverySteps registers the steps on the discovery document and the
// JWK Set, and the preconditions read from them.
func (s *scenario) registerDiscoverySteps(sc *godog.ScenarioContext) {
	sc.Step(`^the provider does not list "([^"]*)" in "([^"]*)"$`, s.providerDoesNotList)
	sc.Step(`^the suite fetches the discovery document$`, s.fetchDiscovery)
	sc.Step(`^the suite fetches the RFC 8414 authorization server metadata$`, s.fetchRFC8414)
	sc.Step(`^the suite fetches the JWK Set$`, s.fetchJWKS)
	sc.Step(`^the discovery "([^"]*)" is exactly the issuer URL$`, s.discoveryIssuerIsExact)
	sc.Step(`^the discovery document has the members:$`, s.discoveryHasMembers)
	sc.Step(`^the discovery list "([^"]*)" contains "([^"]*)"$`, s.discoveryListContains)
	sc.Step(`^the discovery list "([^"]*)", when present, contains "([^"]*)"$`, s.discoveryListContainsWhenPresent)
	sc.Step(`^every endpoint in the discovery document uses https$`, s.endpointsUseHTTPS)
	sc.Step(`^the JWK Set has at least one signing key$`, s.jwksHasSigningKey)
	sc.Step(`^the JWK Set has no private or symmetric key material$`, s.jwksHasNoPrivateKeys)
	sc.Step(`^the keys of the JWK Set have distinct "kid" values$`, s.jwksDistinctKids)
}

func (s *scenario) fetchDiscovery() error {
	_, err := s.get(issuer.OpenIDConfigurationURL(s.run.issuerID()), nil)
	return err
}

func (s *scenario) fetchRFC8414() error {
	u, err := issuer.OAuthServerMetadataURL(s.run.issuerID())
	if err != nil {
		return err
	}
	_, err = s.get(u, nil)
	return err
}

func (s *scenario) fetchJWKS() error {
	if s.run.meta.JWKSURI == "" {
		return fmt.Errorf("the discovery document has no jwks_uri")
	}
	_, err := s.get(s.run.meta.JWKSURI, nil)
	return err
}

// discoveryIssuerIsExact: OIDC Discovery §4.3 wants the very string used
// as the discovery prefix; a configured trailing slash is kept as is.
func (s *scenario) discoveryIssuerIsExact(member string) error {
	v, err := s.member(member)
	if err != nil {
		return err
	}
	if v != s.run.issuerID() {
		return fmt.Errorf("%q is %q, but the issuer URL is %q", member, v, s.run.issuerID())
	}
	return nil
}

func (s *scenario) discoveryHasMembers(table *godog.Table) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	var missing []string
	for i, row := range table.Rows {
		if i == 0 || len(row.Cells) == 0 {
			continue // the header
		}
		if _, ok := r.json[row.Cells[0].Value]; !ok {
			missing = append(missing, row.Cells[0].Value)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the discovery document lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

func (s *scenario) discoveryListContains(member, want string) error {
	v, err := s.member(member)
	if err != nil {
		return err
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%q is not a list: %v", member, v)
	}
	if !slices.Contains(list, any(want)) {
		return fmt.Errorf("%q does not contain %q: %v", member, want, list)
	}
	return nil
}

func (s *scenario) discoveryListContainsWhenPresent(member, want string) error {
	r, err := s.last()
	if err != nil {
		return err
	}
	if _, ok := r.json[member]; !ok {
		return nil
	}
	return s.discoveryListContains(member, want)
}

func (s *scenario) endpointsUseHTTPS() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	// The configuration admits plain http only for a loopback issuer, a
	// test deployment that cannot tell whether the provider would use
	// https where it is really deployed.
	if u, err := url.Parse(s.run.issuerID()); err == nil && u.Scheme == "http" {
		return s.notApplicable("the issuer %s is a plain http test deployment on loopback, so its endpoints cannot be held to https", s.run.issuerID())
	}
	var bad []string
	for name, v := range r.json {
		str, ok := v.(string)
		if !ok || !(strings.HasSuffix(name, "_endpoint") || name == "jwks_uri" || name == "issuer") {
			continue
		}
		if u, err := url.Parse(str); err != nil || u.Scheme != "https" {
			bad = append(bad, name+"="+str)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("not https: %s", strings.Join(bad, ", "))
	}
	return nil
}

func (s *scenario) jwks() (*jose.JSONWebKeySet, error) {
	r, err := s.last()
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.body, &set); err != nil {
		return nil, fmt.Errorf("the JWK Set does not parse: %w", err)
	}
	return &set, nil
}

func (s *scenario) jwksHasSigningKey() error {
	set, err := s.jwks()
	if err != nil {
		return err
	}
	for _, k := range set.Keys {
		if k.Use == "" || k.Use == "sig" {
			return nil
		}
	}
	return fmt.Errorf("the JWK Set has no key usable for signatures (%d keys)", len(set.Keys))
}

// jwksHasNoPrivateKeys: OIDC Discovery §3 (jwks_uri): the set MUST NOT
// contain private or symmetric key values.
func (s *scenario) jwksHasNoPrivateKeys() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		return fmt.Errorf("the JWK Set does not parse: %w", err)
	}
	for i, k := range raw.Keys {
		if k["kty"] == "oct" {
			return fmt.Errorf("key %d is a symmetric key", i)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				return fmt.Errorf("key %d (kid %v) has the private member %q", i, k["kid"], private)
			}
		}
	}
	return nil
}

func (s *scenario) jwksDistinctKids() error {
	set, err := s.jwks()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, k := range set.Keys {
		if len(set.Keys) > 1 && k.KeyID == "" {
			return fmt.Errorf("several keys are published and one has no kid (OIDC Core §10.1)")
		}
		if seen[k.KeyID] {
			return fmt.Errorf("the kid %q appears twice", k.KeyID)
		}
		seen[k.KeyID] = true
	}
	return nil
}

// providerDoesNotList ends the scenario as not applicable when the
// provider lists the value (the rule concerns only providers without it).
func (s *scenario) providerDoesNotList(value, member string) error {
	var doc map[string]any
	if err := json.Unmarshal(s.run.meta.Raw, &doc); err == nil {
		if list, ok := doc[member].([]any); ok && slices.Contains(list, any(value)) {
			return s.notApplicable("the provider lists %q in %s", value, member)
		}
	}
	return nil
}
