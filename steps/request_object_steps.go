package steps

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/cucumber/godog"
)

// registerRequestObjectSteps registers the request object steps (OIDC Core §6).
func (s *scenario) registerRequestObjectSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the request carries its parameters in an unsigned request object$`, s.requestByValue)
	sc.Step(`^the request carries its parameters by reference in a request_uri$`, s.requestByReference)
	sc.Step(`^the response is expected at the registered redirect URI$`, s.expectAtRegisteredURI)
}

// requestObject is an unsigned request object (OIDC Core §6.1, alg none)
// with the request's parameters; client_id, response_type and scope stay
// in the query too, as §6.1 requires.
func (s *scenario) requestObject() (string, error) {
	a, err := s.request()
	if err != nil {
		return "", err
	}
	claims := map[string]any{"iss": s.client.ID, "aud": s.run.issuerID()}
	for k, v := range a.params {
		claims[k] = v[0]
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
}

func (s *scenario) requestByValue() error {
	obj, err := s.requestObject()
	if err != nil {
		return err
	}
	s.auth.params.Set("request", obj)
	return nil
}

func (s *scenario) requestByReference() error {
	obj, err := s.requestObject()
	if err != nil {
		return err
	}
	l, ok := s.run.listeners[s.client.RedirectURI]
	if !ok {
		return fmt.Errorf("no listener serves %s", s.client.RedirectURI)
	}
	s.auth.params.Set("request_uri", l.Publish("application/oauth-authz-req+jwt", []byte(obj)))
	return nil
}

// expectAtRegisteredURI: the response must come to the registered redirect
// URI whatever the query says (OIDC Core §6.1: the request object wins).
func (s *scenario) expectAtRegisteredURI() error {
	a, err := s.request()
	if err != nil {
		return err
	}
	a.expectAt = s.client.RedirectURI
	return nil
}
