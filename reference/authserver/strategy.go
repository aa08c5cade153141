package authserver

import (
	"context"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// accessTokenStrategy issues RFC 9068 JWT access tokens. The refresh grant
// clones the original session, claims included; fosite would then keep the
// first token's iat and jti, so every new token gets its own here.
type accessTokenStrategy struct {
	*oauth2.DefaultJWTStrategy
}

func (s *accessTokenStrategy) GenerateAccessToken(ctx context.Context, req fosite.Requester) (string, string, error) {
	if sess, ok := req.GetSession().(*Session); ok {
		sess.GetJWTClaims()
		sess.AccessTokenClaims.IssuedAt = time.Now().UTC().Truncate(time.Second)
		sess.AccessTokenClaims.JTI = ""
	}
	return s.DefaultJWTStrategy.GenerateAccessToken(ctx, req)
}
