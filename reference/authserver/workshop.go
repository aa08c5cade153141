package authserver

import (
	"context"
	"slices"
)

// WorkshopHooks is the customisation the IRIS workshop ships
// (auth.server.Authenticate and auth.server.Validate): `name` is an
// essential ID-token claim, and user grants carry the custom properties
// `my-property` and `other-property`; client credentials grants do not.
func WorkshopHooks(users UserLookup) Hooks {
	return Hooks{
		BeforeAuthenticate: workshopAuthenticate{},
		ValidateUser:       workshopValidate{base: PasswordValidator{Users: users}},
	}
}

type workshopAuthenticate struct{}

func (workshopAuthenticate) BeforeAuthenticate(_ context.Context, a *Authorization) error {
	if !slices.Contains(a.EssentialClaims, "name") {
		a.EssentialClaims = append(a.EssentialClaims, "name")
	}
	return nil
}

type workshopValidate struct{ base PasswordValidator }

func (v workshopValidate) ValidateUser(ctx context.Context, cred Credentials, a *Authorization) (*Identity, error) {
	id, err := v.base.ValidateUser(ctx, cred, a)
	if err != nil {
		return nil, err
	}
	if id.Properties == nil {
		id.Properties = map[string]any{}
	}
	id.Properties["my-property"] = "value1234"
	// The IRIS example's value, typo in the first key included.
	id.Properties["other-property"] = []any{
		map[string]any{"name:": "john"},
		map[string]any{"name": "doe"},
	}
	return id, nil
}

var _ UserValidator = workshopValidate{}
