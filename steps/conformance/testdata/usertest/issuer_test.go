// Package usertest is a user's own test of an issuer with the conformance
// suite, here the in-process reference. conformance's
// TestGoTestRunSelectsScenarios runs it with go test -run and -json.
package usertest

import (
	"context"
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/conformance"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
)

func TestConformance(t *testing.T) {
	ref, err := reference.Start(t.Context(), reference.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close(context.Background()) })
	conformance.Run(t, conformance.Config{
		Target:   ref.Config,
		Tags:     "@needs:discovery, @needs:claims_parameter",
		Features: []string{"features"},
	})
}
