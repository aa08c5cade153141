package store

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

const (
	flowClientID     = "web"
	flowClientSecret = "s3cret"
	flowRedirectURI  = "https://client.example/cb"
	flowVerifier     = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// rsaKey is shared: generating a key per test is slow under -race.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// newProvider composes the handlers the reference authorization server
// uses on top of s. A storage method a factory needs but s lacks would
// panic here.
func newProvider(t *testing.T, s *Store) fosite.OAuth2Provider {
	t.Helper()
	cfg := &fosite.Config{
		GlobalSecret:             []byte("0123456789abcdef0123456789abcdef"),
		IDTokenIssuer:            "https://as.example",
		AccessTokenIssuer:        "https://as.example",
		TokenURL:                 "https://as.example/token",
		AccessTokenLifespan:      time.Hour,
		RefreshTokenLifespan:     24 * time.Hour,
		AuthorizeCodeLifespan:    10 * time.Minute,
		RefreshTokenScopes:       []string{"offline_access"},
		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
	}
	cfg.ClientSecretsHasher = &fosite.BCrypt{Config: cfg}
	keyGetter := func(context.Context) (any, error) { return rsaKey(), nil }
	p := compose.Compose(cfg, s,
		&compose.CommonStrategy{
			CoreStrategy:               compose.NewOAuth2HMACStrategy(cfg),
			OpenIDConnectTokenStrategy: compose.NewOpenIDConnectStrategy(keyGetter, cfg),
		},
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	require.NotNil(t, p)

	hash, err := bcrypt.GenerateFromPassword([]byte(flowClientSecret), bcrypt.MinCost)
	require.NoError(t, err)
	c := testClient(flowClientID)
	c.Secret = hash
	c.RedirectURIs = []string{flowRedirectURI}
	require.NoError(t, s.UpsertClient(context.Background(), c))
	return p
}

func TestComposeAllEnabledNeedsMoreThanTheReference(t *testing.T) {
	// The reference serves neither the password grant, RFC 7523 assertions
	// nor PAR; fosite's all-in-one composition would need their storage.
	s := newStore(t)
	assert.Panics(t, func() {
		compose.ComposeAllEnabled(&fosite.Config{GlobalSecret: []byte("0123456789abcdef0123456789abcdef")}, s, rsaKey())
	})
}

// authorize runs /authorize for alice and returns the code.
func authorize(t *testing.T, p fosite.OAuth2Provider) string {
	t.Helper()
	ctx := context.Background()
	sum := sha256.Sum256([]byte(flowVerifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {flowClientID},
		"redirect_uri":          {flowRedirectURI},
		"scope":                 {"openid offline_access"},
		"state":                 {"state-12345678"},
		"nonce":                 {"nonce-12345678"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	ar, err := p.NewAuthorizeRequest(ctx, httptest.NewRequest(http.MethodGet, "https://as.example/authorize?"+q.Encode(), nil))
	require.NoError(t, err)
	ar.GrantScope("openid")
	ar.GrantScope("offline_access")
	ar.GrantAudience("https://api.example")

	sess := newTestSession().(*testSession)
	sess.Subject, sess.Username = "alice", "alice"
	sess.Claims.Subject = "alice"
	sess.Claims.AuthTime = time.Now().UTC().Truncate(time.Second)
	sess.Claims.RequestedAt = sess.Claims.AuthTime
	sess.JWTClaims.Subject = "alice"
	resp, err := p.NewAuthorizeResponse(ctx, ar, sess)
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetCode())
	return resp.GetCode()
}

// token calls /token and returns the response or the fosite error.
func token(p fosite.OAuth2Provider, form url.Values) (fosite.AccessResponder, error) {
	ctx := context.Background()
	r := httptest.NewRequest(http.MethodPost, "https://as.example/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(flowClientID, flowClientSecret)
	ar, err := p.NewAccessRequest(ctx, r, newTestSession())
	if err != nil {
		return nil, err
	}
	return p.NewAccessResponse(ctx, ar)
}

func exchange(p fosite.OAuth2Provider, code string) (fosite.AccessResponder, error) {
	return token(p, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {flowRedirectURI},
		"code_verifier": {flowVerifier},
	})
}

func refresh(p fosite.OAuth2Provider, rt string) (fosite.AccessResponder, error) {
	return token(p, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func active(p fosite.OAuth2Provider, tok string, use fosite.TokenUse) bool {
	_, _, err := p.IntrospectToken(context.Background(), tok, use, newTestSession())
	return err == nil
}

func TestFositeCodeFlowWithRefreshReuse(t *testing.T) {
	s := newStore(t)
	p := newProvider(t, s)

	first, err := exchange(p, authorize(t, p))
	require.NoError(t, err)
	at1, rt1 := first.GetAccessToken(), first.GetExtra("refresh_token").(string)
	require.NotEmpty(t, first.GetExtra("id_token"))
	_, ar, err := p.IntrospectToken(context.Background(), at1, fosite.AccessToken, newTestSession())
	require.NoError(t, err)
	assert.Equal(t, "alice", ar.GetSession().(*testSession).Subject)
	assert.Equal(t, fosite.Arguments{"https://api.example"}, ar.GetGrantedAudience())

	second, err := refresh(p, rt1)
	require.NoError(t, err)
	at2, rt2 := second.GetAccessToken(), second.GetExtra("refresh_token").(string)
	require.NotEmpty(t, second.GetExtra("id_token"), "openid was granted")
	assert.False(t, active(p, at1, fosite.AccessToken), "rotation revokes the old access token")
	assert.True(t, active(p, at2, fosite.AccessToken))

	// RFC 6819 §5.2.2.3: replaying a rotated refresh token revokes the grant.
	_, err = refresh(p, rt1)
	require.ErrorIs(t, err, fosite.ErrInvalidGrant)
	assert.False(t, active(p, at2, fosite.AccessToken))
	assert.False(t, active(p, rt2, fosite.RefreshToken))
	_, err = refresh(p, rt2)
	assert.ErrorIs(t, err, fosite.ErrInvalidGrant)
}

func TestFositeCodeReuseRevokesTokens(t *testing.T) {
	s := newStore(t)
	p := newProvider(t, s)
	code := authorize(t, p)

	resp, err := exchange(p, code)
	require.NoError(t, err)
	at, rt := resp.GetAccessToken(), resp.GetExtra("refresh_token").(string)
	require.True(t, active(p, at, fosite.AccessToken))

	// RFC 6749 §4.1.2: a second use is refused and revokes what the first
	// one issued.
	_, err = exchange(p, code)
	require.ErrorIs(t, err, fosite.ErrInvalidGrant)
	assert.False(t, active(p, at, fosite.AccessToken))
	assert.False(t, active(p, rt, fosite.RefreshToken))
}

func TestFositeRevocation(t *testing.T) {
	s := newStore(t)
	p := newProvider(t, s)
	resp, err := exchange(p, authorize(t, p))
	require.NoError(t, err)
	at, rt := resp.GetAccessToken(), resp.GetExtra("refresh_token").(string)

	sig := strings.SplitN(rt, ".", 2)[1]
	owner, err := s.ClientIDForRefreshTokenSignature(context.Background(), sig)
	require.NoError(t, err)
	assert.Equal(t, flowClientID, owner)

	form := url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}
	r := httptest.NewRequest(http.MethodPost, "https://as.example/revoke", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(flowClientID, flowClientSecret)
	require.NoError(t, p.NewRevocationRequest(context.Background(), r))
	assert.False(t, active(p, rt, fosite.RefreshToken))
	assert.False(t, active(p, at, fosite.AccessToken), "revoking the refresh token revokes its access tokens")
}

func TestFositeParallelRefresh(t *testing.T) {
	s := newStore(t)
	p := newProvider(t, s)
	resp, err := exchange(p, authorize(t, p))
	require.NoError(t, err)
	rt := resp.GetExtra("refresh_token").(string)

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = refresh(p, rt) })
	}
	wg.Wait()

	succeeded := 0
	for _, err := range errs {
		if err == nil {
			succeeded++
			continue
		}
		// Losers see reuse (invalid_grant) or a rotation that lost the
		// race (invalid_request); never a server error.
		var rfc *fosite.RFC6749Error
		require.True(t, errors.As(err, &rfc), "%v", err)
		assert.Contains(t, []string{"invalid_grant", "invalid_request"}, rfc.ErrorField, "%+v", rfc)
	}
	assert.LessOrEqual(t, succeeded, 1)
}
