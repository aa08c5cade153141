package store

import (
	"context"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClients(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	c := testClient("c1")
	c.PostLogoutRedirectURIs = []string{"https://client.example/bye"}
	c.RegistrationAccessTokenHash = []byte{1, 2, 3}
	c.MayIntrospect = true
	require.NoError(t, s.CreateClient(ctx, c))
	assert.False(t, c.CreatedAt.IsZero(), "CreatedAt defaults to now")
	assert.ErrorIs(t, s.CreateClient(ctx, testClient("c1")), ErrConflict)

	got, err := s.GetClient(ctx, "c1")
	require.NoError(t, err)
	gc := got.(*Client)
	assert.Equal(t, c.DefaultClient, gc.DefaultClient)
	assert.Equal(t, c.TokenEndpointAuthMethod, gc.TokenEndpointAuthMethod)
	assert.Equal(t, c.Name, gc.Name)
	assert.Equal(t, c.PostLogoutRedirectURIs, gc.PostLogoutRedirectURIs)
	assert.Equal(t, c.RegistrationAccessTokenHash, gc.RegistrationAccessTokenHash)
	assert.True(t, gc.MayIntrospect)
	assert.True(t, gc.RequirePKCE)
	assert.True(t, c.CreatedAt.Equal(gc.CreatedAt))

	_, err = s.GetClient(ctx, "unknown")
	assert.ErrorIs(t, err, fosite.ErrNotFound)

	// Reloading fixtures replaces the client but keeps its grants.
	req := testRequest(t, s, "c1", "req-1")
	require.NoError(t, s.CreateAccessTokenSession(ctx, "at", req))
	c2 := testClient("c1")
	c2.Name = "Renamed"
	require.NoError(t, s.UpsertClient(ctx, c2))
	require.NoError(t, s.UpsertClient(ctx, testClient("c0")))
	got, err = s.GetClient(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, "Renamed", got.(*Client).Name)
	_, err = s.GetAccessTokenSession(ctx, "at", nil)
	assert.NoError(t, err)

	list, err := s.ListClients(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "c0", list[0].GetID())
	assert.Equal(t, "c1", list[1].GetID())

	// Deleting a client takes its grants with it.
	require.NoError(t, s.DeleteClient(ctx, "c1"))
	assert.ErrorIs(t, s.DeleteClient(ctx, "c1"), fosite.ErrNotFound)
	_, err = s.GetAccessTokenSession(ctx, "at", nil)
	assert.ErrorIs(t, err, fosite.ErrNotFound)

	// A grant for an unknown client is refused.
	req.Client = testClient("ghost")
	assert.ErrorIs(t, s.CreateAccessTokenSession(ctx, "at-ghost", req), fosite.ErrNotFound)

	for _, bad := range []*Client{nil, {}, testClient("")} {
		assert.Error(t, s.CreateClient(ctx, bad))
		assert.Error(t, s.UpsertClient(ctx, bad))
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	alice := &User{
		Username:      "alice",
		PasswordHash:  []byte("$2a$04$hash"),
		Name:          "Alice Liddell",
		Email:         "alice@example.com",
		EmailVerified: true,
		UpdatedAt:     time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	require.NoError(t, s.UpsertUser(ctx, alice))
	require.NoError(t, s.UpsertUser(ctx, &User{Username: "bob"}))
	got, err := s.GetUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, alice, got)

	alice.Email = "alice@wonderland.example"
	require.NoError(t, s.UpsertUser(ctx, alice))
	got, err = s.GetUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "alice@wonderland.example", got.Email)

	_, err = s.GetUser(ctx, "carol")
	assert.ErrorIs(t, err, fosite.ErrNotFound)
	assert.Error(t, s.UpsertUser(ctx, &User{}))

	users, err := s.ListUsers(ctx)
	require.NoError(t, err)
	require.Len(t, users, 2)
	assert.Equal(t, "alice", users[0].Username)
	assert.Equal(t, "bob", users[1].Username)
}

func TestLoginSessions(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	require.NoError(t, s.UpsertUser(ctx, &User{Username: "alice"}))
	now := time.Now().UTC().Round(time.Second)

	live := LoginSession{ID: "live", Username: "alice", AuthTime: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, s.CreateLoginSession(ctx, live))
	require.NoError(t, s.CreateLoginSession(ctx, LoginSession{ID: "old", Username: "alice", AuthTime: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}))
	assert.ErrorIs(t, s.CreateLoginSession(ctx, live), ErrConflict)
	assert.ErrorIs(t, s.CreateLoginSession(ctx, LoginSession{ID: "x", Username: "nobody", ExpiresAt: now.Add(time.Hour)}), fosite.ErrNotFound)
	assert.Error(t, s.CreateLoginSession(ctx, LoginSession{ID: "no-expiry", Username: "alice"}))

	tests := []struct {
		id      string
		want    LoginSession
		wantErr error
	}{
		{id: "live", want: live},
		{id: "old", wantErr: fosite.ErrNotFound},
		{id: "unknown", wantErr: fosite.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			got, err := s.GetLoginSession(ctx, tc.id)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	require.NoError(t, s.DeleteLoginSession(ctx, "live"))
	require.NoError(t, s.DeleteLoginSession(ctx, "live"))
	_, err := s.GetLoginSession(ctx, "live")
	assert.ErrorIs(t, err, fosite.ErrNotFound)
}

func TestSigningKeys(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Now().UTC()
	key := func(kid string, created time.Time) SigningKey {
		return SigningKey{KID: kid, Algorithm: "RS256", PrivateJWK: []byte(`{"kid":"` + kid + `"}`), CreatedAt: created, Active: true}
	}

	require.NoError(t, s.AddSigningKey(ctx, key("k1", now.Add(-3*time.Hour)), time.Time{}))
	// k1 retires in an hour, then k2 is replaced with an already past date.
	require.NoError(t, s.AddSigningKey(ctx, key("k2", now.Add(-2*time.Hour)), now.Add(time.Hour)))
	require.NoError(t, s.AddSigningKey(ctx, key("k3", now.Add(-time.Hour)), now.Add(-time.Minute)))
	assert.ErrorIs(t, s.AddSigningKey(ctx, key("k3", now), now), ErrConflict)
	inactive := key("k0", now.Add(-4*time.Hour))
	inactive.Active = false
	require.NoError(t, s.AddSigningKey(ctx, inactive, now), "an inactive key retires nobody")

	keys, err := s.SigningKeys(ctx)
	require.NoError(t, err)
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KID)
	}
	assert.Equal(t, []string{"k3", "k1", "k0"}, kids, "active first, retired k2 gone")
	assert.True(t, keys[0].Active)
	assert.True(t, keys[0].RetireAt.IsZero())
	assert.Equal(t, []byte(`{"kid":"k3"}`), keys[0].PrivateJWK)
	assert.Equal(t, "RS256", keys[0].Algorithm)
	assert.False(t, keys[1].Active)
	assert.WithinDuration(t, now.Add(time.Hour), keys[1].RetireAt, time.Microsecond)
	assert.WithinDuration(t, now.Add(-3*time.Hour), keys[1].CreatedAt, time.Microsecond)
}

func TestClientAssertionJTI(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Now()

	require.NoError(t, s.ClientAssertionJWTValid(ctx, "jti-1"))
	require.NoError(t, s.SetClientAssertionJWT(ctx, "jti-1", now.Add(time.Minute)))
	assert.ErrorIs(t, s.ClientAssertionJWTValid(ctx, "jti-1"), fosite.ErrJTIKnown)
	assert.ErrorIs(t, s.SetClientAssertionJWT(ctx, "jti-1", now.Add(time.Minute)), fosite.ErrJTIKnown)

	// An expired JTI can no longer be replayed, so it is forgotten.
	require.NoError(t, s.SetClientAssertionJWT(ctx, "jti-2", now.Add(-time.Second)))
	assert.NoError(t, s.ClientAssertionJWTValid(ctx, "jti-2"))
	assert.NoError(t, s.SetClientAssertionJWT(ctx, "jti-2", now.Add(time.Minute)))
}

func TestPurgeExpired(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Now().UTC()
	later := now.Add(48 * time.Hour)

	// req-1 has live tokens, so its expired, used code must stay to let a
	// replay revoke them. req-2's code was never exchanged.
	req1 := testRequest(t, s, "c1", "req-1")
	req2 := testRequest(t, s, "c1", "req-2")
	require.NoError(t, s.CreateAuthorizeCodeSession(ctx, "code-1", req1))
	require.NoError(t, s.InvalidateAuthorizeCodeSession(ctx, "code-1"))
	req1.Session.SetExpiresAt(fosite.RefreshToken, time.Time{}) // never expires
	require.NoError(t, s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", req1))
	require.NoError(t, s.CreateAccessTokenSession(ctx, "at-1", req1))
	require.NoError(t, s.CreateAuthorizeCodeSession(ctx, "code-2", req2))
	require.NoError(t, s.CreatePKCERequestSession(ctx, "code-2", req2))
	require.NoError(t, s.CreateOpenIDConnectSession(ctx, "raw-2", req2))
	require.NoError(t, s.UpsertUser(ctx, &User{Username: "alice"}))
	require.NoError(t, s.CreateLoginSession(ctx, LoginSession{ID: "ls", Username: "alice", ExpiresAt: now.Add(time.Hour)}))
	require.NoError(t, s.SetClientAssertionJWT(ctx, "jti", now.Add(time.Hour)))
	require.NoError(t, s.AddSigningKey(ctx, SigningKey{KID: "old", PrivateJWK: []byte("{}"), Active: true}, time.Time{}))
	require.NoError(t, s.AddSigningKey(ctx, SigningKey{KID: "new", PrivateJWK: []byte("{}"), Active: true}, now.Add(time.Hour)))

	n, err := s.PurgeExpired(ctx, now)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing has expired yet")

	n, err = s.PurgeExpired(ctx, later)
	require.NoError(t, err)
	// at-1, code-2, its PKCE and OIDC sessions, the login, the JTI, key "old".
	assert.Equal(t, int64(7), n)

	got, err := s.GetAuthorizeCodeSession(ctx, "code-1", nil)
	assert.ErrorIs(t, err, fosite.ErrInvalidatedAuthorizeCode, "kept: its refresh token lives")
	assert.NotNil(t, got)
	_, err = s.GetRefreshTokenSession(ctx, "rt-1", nil)
	assert.NoError(t, err)
	_, err = s.GetAuthorizeCodeSession(ctx, "code-2", nil)
	assert.ErrorIs(t, err, fosite.ErrNotFound)

	require.NoError(t, s.DeleteRefreshTokenSession(ctx, "rt-1"))
	n, err = s.PurgeExpired(ctx, later)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the code goes once its tokens have")
}
