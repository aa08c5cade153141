package authserver

import (
	"context"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// codeLifespanKey carries a client's own code lifetime from the
// authorization endpoint to fosite's code handler.
type codeLifespanKey struct{}

// withCodeLifespan makes d the lifetime of the codes issued under ctx; zero
// keeps the server's.
func withCodeLifespan(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, codeLifespanKey{}, d)
}

// clientCodeLifespan is fosite's configuration with the code lifetime taken
// from the context when the client has one of its own.
type clientCodeLifespan struct{ fosite.Configurator }

func (c clientCodeLifespan) GetAuthorizeCodeLifespan(ctx context.Context) time.Duration {
	if fault.On("code-lifetime-day") {
		return 24 * time.Hour
	}
	if d, ok := ctx.Value(codeLifespanKey{}).(time.Duration); ok {
		return d
	}
	return c.Configurator.GetAuthorizeCodeLifespan(ctx)
}

// authorizeCodeFactory is fosite's code flow with per-client code lifetimes.
func authorizeCodeFactory(config fosite.Configurator, storage, strategy any) any {
	return compose.OAuth2AuthorizeExplicitFactory(clientCodeLifespan{config}, storage, strategy)
}
