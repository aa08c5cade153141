package steps

import (
	"errors"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// registerClientSteps registers the choice of the scenario's client.
func (s *scenario) registerClientSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the (web|public|service|introspector|other) client$`, s.theClient)
	sc.Step(`^the client whose token is introspected$`, func() error { return s.theClient(string(s.run.cfg.Assign.Introspected)) })
	sc.Step(`^the revoking client$`, func() error { return s.theClient(string(s.run.cfg.Assign.Revoker)) })
	sc.Step(`^the client whose code is left to expire$`, func() error { return s.theClient(string(s.run.cfg.Assign.CodeExpiry)) })
}

func (s *scenario) theClient(role string) error {
	c, ok := s.run.cfg.Client(issuer.Role(role))
	if !ok {
		return s.notApplicable("no %s client is configured for this target", role)
	}
	s.role, s.client = issuer.Role(role), c
	return nil
}

func (s *scenario) clientFor(role issuer.Role) (*issuer.Client, error) {
	c, ok := s.run.cfg.Client(role)
	if !ok {
		return nil, s.notApplicable("no %s client is configured for this target", role)
	}
	return c, nil
}

func (s *scenario) needClient() error {
	if s.client == nil {
		return errors.New("the scenario has not chosen a client (a step like \"Given the web client\" is missing)")
	}
	return nil
}
