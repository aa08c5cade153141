package steps

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cucumber/godog"
)

// registerRequestObjectSteps registers the request object steps (OIDC Core §6).
func (s *scenario) registerRequestObjectSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the request carries its parameters in an unsigned request object$`, s.requestByValue)
	sc.Step(`^the request carries its parameters by reference in a request_uri$`, s.requestByReference)
	sc.Step(`^the request carries its parameters in an unsigned request object (by value|by reference)$`, s.requestObjectBy)
	sc.Step(`^the response is expected at the registered redirect URI$`, s.expectAtRegisteredURI)
	sc.Step(`^the provider accepts unsigned request objects, if it supports request objects$`, s.unsignedRequestObjectsPremise)
	sc.Step(`^the provider accepts unregistered request_uri values, if it supports request_uri$`, s.requestURIPremise)
	sc.Step(`^the provider says it takes unsigned request objects (by value|by reference)$`, s.takesRequestObjects)
	sc.Step(`^the query names the registered redirect URI again$`, s.queryRedirectRegistered)
}

// takesRequestObjects is the premise of the negative scenarios: the
// provider must say it supports the way the object is passed, as a
// provider without it may ignore the parameter and use the query alone.
// For request_uri the premise is an explicit true, not the default of
// OIDC Discovery §3, for the same reason.
func (s *scenario) takesRequestObjects(how string) error {
	m := s.run.meta
	if how == "by value" && !m.RequestParameterSupported {
		return s.notApplicable("the issuer's discovery document does not set request_parameter_supported to true (OIDC Discovery §3)")
	}
	if how == "by reference" {
		if m.RequestURIParameterSupported == nil || !*m.RequestURIParameterSupported {
			return s.notApplicable("the issuer's discovery document does not set request_uri_parameter_supported to true (OIDC Discovery §3)")
		}
		if m.RequireRequestURIRegistration {
			return s.notApplicable("the issuer's discovery document sets require_request_uri_registration, and the suite's request URIs are not registered for the client")
		}
	}
	return s.needUnsignedRequestObjects()
}

// queryRedirectRegistered puts the registered redirect URI back in the
// query after a request object took a changed one, so that only the
// object's value is wrong.
func (s *scenario) queryRedirectRegistered() error {
	a, err := s.request()
	if err != nil {
		return err
	}
	a.params.Set("redirect_uri", s.client.RedirectURI)
	return nil
}

// unsignedRequestObjectsPremise: the suite's request objects are unsigned
// (alg none), which a provider need accept only when it lists none in
// request_object_signing_alg_values_supported (OIDC Discovery §3). A
// provider that supports request objects but not unsigned ones may refuse
// them (invalid_request_object), so the scenario is not applicable there.
// A provider without request objects is still expected to answer
// request_not_supported, or to ignore the parameter.
func (s *scenario) unsignedRequestObjectsPremise() error {
	m := s.run.meta
	if !m.RequestParameterSupported {
		return nil
	}
	return s.needUnsignedRequestObjects()
}

func (s *scenario) needUnsignedRequestObjects() error {
	m := s.run.meta
	if !slices.Contains(m.RequestObjectSigningAlgValuesSupported, "none") {
		return s.notApplicable("the suite sends unsigned request objects and the issuer's discovery document does not list none in request_object_signing_alg_values_supported%s", listedValues(m.RequestObjectSigningAlgValuesSupported))
	}
	return nil
}

// requestURIPremise: a request_uri holds an unsigned request object that
// the suite publishes at a URI of its own. The provider need fetch it only
// when it supports request_uri (request_uri_parameter_supported, default
// true), accepts unsigned objects, and does not require request URIs to be
// registered in advance (require_request_uri_registration, OIDC Discovery
// §3; OIDC Core §6.2).
func (s *scenario) requestURIPremise() error {
	m := s.run.meta
	if m.RequestURIParameterSupported != nil && !*m.RequestURIParameterSupported {
		return nil
	}
	if m.RequireRequestURIRegistration {
		return s.notApplicable("the issuer's discovery document sets require_request_uri_registration, and the suite's request URIs are not registered for the client")
	}
	return s.needUnsignedRequestObjects()
}

func listedValues(values []string) string {
	if len(values) == 0 {
		return " (the list is absent or empty)"
	}
	return " (it lists " + strings.Join(values, ", ") + ")"
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

func (s *scenario) requestObjectBy(how string) error {
	if how == "by value" {
		return s.requestByValue()
	}
	return s.requestByReference()
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
