package store

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSession mirrors the authorization server's session: an OpenID
// Connect session plus access-token claims, all of it JSON.
type testSession struct {
	*openid.DefaultSession
	JWTClaims *jwt.JWTClaims `json:"jwt_claims"`
}

func newTestSession() fosite.Session {
	return &testSession{DefaultSession: openid.NewDefaultSession(), JWTClaims: &jwt.JWTClaims{}}
}

// Clone keeps the concrete type; the promoted one would return a bare
// *openid.DefaultSession.
func (s *testSession) Clone() fosite.Session {
	return deepcopy.Copy(s).(*testSession)
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := OpenMemory(newTestSession)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// bothSetUps opens an empty store in memory (no WAL) and on disk (WAL).
var bothSetUps = map[string]func(t *testing.T) *Store{
	"memory": newStore,
	"file": func(t *testing.T) *Store {
		s, err := Open(filepath.Join(t.TempDir(), "oauthtrio.db"), newTestSession)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	},
}

func testClient(id string) *Client {
	return &Client{
		DefaultOpenIDConnectClient: &fosite.DefaultOpenIDConnectClient{
			DefaultClient: &fosite.DefaultClient{
				ID:            id,
				Secret:        []byte("$2a$04$not-a-real-hash"),
				RedirectURIs:  []string{"https://client.example/cb"},
				GrantTypes:    []string{"authorization_code", "refresh_token"},
				ResponseTypes: []string{"code"},
				Scopes:        []string{"openid", "offline_access", "profile"},
				Audience:      []string{"https://api.example"},
			},
			TokenEndpointAuthMethod: "client_secret_basic",
		},
		Name:        "Client " + id,
		RequirePKCE: true,
	}
}

// testRequest returns a request as fosite builds it at /authorize, with
// credentials in its form that must never reach the database.
func testRequest(t *testing.T, s *Store, clientID, requestID string) *fosite.Request {
	t.Helper()
	client, err := s.GetClient(context.Background(), clientID)
	if err != nil {
		require.NoError(t, s.CreateClient(context.Background(), testClient(clientID)))
		client, err = s.GetClient(context.Background(), clientID)
		require.NoError(t, err)
	}
	sess := newTestSession().(*testSession)
	sess.Subject = "alice"
	sess.Username = "alice"
	sess.Claims.Subject = "alice"
	sess.Claims.Nonce = "n-0S6_WzA2Mj"
	sess.Claims.AuthTime = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	sess.Claims.Extra = map[string]any{"email": "alice@example.com"}
	sess.JWTClaims.Subject = "alice"
	sess.JWTClaims.Extra = map[string]any{"client_id": clientID}
	now := time.Now().UTC().Round(time.Second)
	sess.SetExpiresAt(fosite.AuthorizeCode, now.Add(10*time.Minute))
	sess.SetExpiresAt(fosite.AccessToken, now.Add(time.Hour))
	sess.SetExpiresAt(fosite.RefreshToken, now.Add(24*time.Hour))
	return &fosite.Request{
		ID:                requestID,
		RequestedAt:       now.Add(-time.Second),
		Client:            client,
		RequestedScope:    fosite.Arguments{"openid", "offline_access", "profile"},
		GrantedScope:      fosite.Arguments{"openid", "offline_access"},
		RequestedAudience: fosite.Arguments{"https://api.example"},
		GrantedAudience:   fosite.Arguments{"https://api.example"},
		Form: url.Values{
			"redirect_uri":   {"https://client.example/cb"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
			"client_secret":  {"hunter2"},
			"password":       {"correct horse"},
			"code_verifier":  {"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
		},
		Session: sess,
	}
}

// assertSameRequest checks everything fosite reads back from a stored
// request, the session included.
func assertSameRequest(t *testing.T, want *fosite.Request, got fosite.Requester) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.ID, got.GetID())
	assert.True(t, want.RequestedAt.Equal(got.GetRequestedAt()), "requested_at %v != %v", want.RequestedAt, got.GetRequestedAt())
	assert.Equal(t, want.Client.GetID(), got.GetClient().GetID())
	assert.IsType(t, &Client{}, got.GetClient())
	assert.Equal(t, want.RequestedScope, got.GetRequestedScopes())
	assert.Equal(t, want.GrantedScope, got.GetGrantedScopes())
	assert.Equal(t, want.RequestedAudience, got.GetRequestedAudience())
	assert.Equal(t, want.GrantedAudience, got.GetGrantedAudience())
	assert.Equal(t, want.Form.Get("redirect_uri"), got.GetRequestForm().Get("redirect_uri"))
	assert.Equal(t, want.Form.Get("code_challenge"), got.GetRequestForm().Get("code_challenge"))
	for _, k := range []string{"client_secret", "password", "code_verifier"} {
		assert.NotContains(t, got.GetRequestForm(), k)
	}

	ws := want.Session.(*testSession)
	gs, ok := got.GetSession().(*testSession)
	require.True(t, ok, "session type %T", got.GetSession())
	assert.Equal(t, ws.Subject, gs.Subject)
	assert.Equal(t, ws.Username, gs.Username)
	assert.Equal(t, ws.Claims.Subject, gs.Claims.Subject)
	assert.Equal(t, ws.Claims.Nonce, gs.Claims.Nonce)
	assert.True(t, ws.Claims.AuthTime.Equal(gs.Claims.AuthTime))
	assert.Equal(t, ws.Claims.Extra, gs.Claims.Extra)
	assert.Equal(t, ws.JWTClaims.Subject, gs.JWTClaims.Subject)
	assert.Equal(t, ws.JWTClaims.Extra, gs.JWTClaims.Extra)
	for _, tt := range []fosite.TokenType{fosite.AuthorizeCode, fosite.AccessToken, fosite.RefreshToken} {
		assert.True(t, ws.GetExpiresAt(tt).Equal(gs.GetExpiresAt(tt)), "expiry of %s", tt)
	}
}

func TestOpenMemoryIsPrivate(t *testing.T) {
	ctx := context.Background()
	a, b := newStore(t), newStore(t)
	require.NoError(t, a.CreateClient(ctx, testClient("only-in-a")))
	_, err := b.GetClient(ctx, "only-in-a")
	assert.ErrorIs(t, err, fosite.ErrNotFound)
}

func TestOpenRequiresSessionFactory(t *testing.T) {
	_, err := OpenMemory(nil)
	assert.Error(t, err)
}

func TestPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	// A '?' in the directory must not be read as the start of parameters.
	path := filepath.Join(t.TempDir(), "odd?dir#name", "oauthtrio.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))

	s, err := Open(path, newTestSession)
	require.NoError(t, err)
	req := testRequest(t, s, "c1", "req-1")
	require.NoError(t, s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", req))
	require.NoError(t, s.UpsertUser(ctx, &User{Username: "alice", Email: "alice@example.com"}))
	require.NoError(t, s.Close())

	s, err = Open(path, newTestSession)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.GetRefreshTokenSession(ctx, "rt-1", nil)
	require.NoError(t, err)
	assertSameRequest(t, req, got)
	u, err := s.GetUser(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "alice@example.com", u.Email)

	var mode string
	require.NoError(t, s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	assert.Equal(t, "wal", mode)
	var version int
	require.NoError(t, s.db.QueryRow(`PRAGMA user_version`).Scan(&version))
	assert.Equal(t, len(migrations), version)
}

func TestGrantRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	req := testRequest(t, s, "c1", "req-1")

	tests := []struct {
		name   string
		create func() error
		get    func(fosite.Session) (fosite.Requester, error)
		delete func() error
	}{
		{
			name:   "authorize code",
			create: func() error { return s.CreateAuthorizeCodeSession(ctx, "code-sig", req) },
			get:    func(p fosite.Session) (fosite.Requester, error) { return s.GetAuthorizeCodeSession(ctx, "code-sig", p) },
		},
		{
			name:   "access token",
			create: func() error { return s.CreateAccessTokenSession(ctx, "at-sig", req) },
			get:    func(p fosite.Session) (fosite.Requester, error) { return s.GetAccessTokenSession(ctx, "at-sig", p) },
			delete: func() error { return s.DeleteAccessTokenSession(ctx, "at-sig") },
		},
		{
			name:   "refresh token",
			create: func() error { return s.CreateRefreshTokenSession(ctx, "rt-sig", "at-sig", req) },
			get:    func(p fosite.Session) (fosite.Requester, error) { return s.GetRefreshTokenSession(ctx, "rt-sig", p) },
			delete: func() error { return s.DeleteRefreshTokenSession(ctx, "rt-sig") },
		},
		{
			name:   "pkce",
			create: func() error { return s.CreatePKCERequestSession(ctx, "code-sig", req) },
			get:    func(p fosite.Session) (fosite.Requester, error) { return s.GetPKCERequestSession(ctx, "code-sig", p) },
			delete: func() error { return s.DeletePKCERequestSession(ctx, "code-sig") },
		},
		{
			name:   "openid connect",
			create: func() error { return s.CreateOpenIDConnectSession(ctx, "raw-code", req) },
			get: func(fosite.Session) (fosite.Requester, error) {
				return s.GetOpenIDConnectSession(ctx, "raw-code", fosite.NewAccessRequest(newTestSession()))
			},
			delete: func() error { return s.DeleteOpenIDConnectSession(ctx, "raw-code") },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.get(nil)
			require.ErrorIs(t, err, fosite.ErrNotFound)

			require.NoError(t, tc.create())
			assert.ErrorIs(t, tc.create(), ErrConflict)

			for _, proto := range []fosite.Session{nil, newTestSession()} {
				got, err := tc.get(proto)
				require.NoError(t, err)
				assertSameRequest(t, req, got)
				if proto != nil {
					assert.NotSame(t, proto, got.GetSession(), "the prototype is the caller's live session")
				}
			}
			if tc.delete == nil {
				return
			}
			require.NoError(t, tc.delete())
			_, err = tc.get(nil)
			assert.ErrorIs(t, err, fosite.ErrNotFound)
			assert.NoError(t, tc.delete(), "deleting twice")
		})
	}
}

func TestStoredSessionIsASnapshot(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	req := testRequest(t, s, "c1", "req-1")
	// fosite stores req.Sanitize(...), which shares the session pointer.
	require.NoError(t, s.CreateAccessTokenSession(ctx, "at", req.Sanitize(nil)))
	req.Session.(*testSession).Subject = "mallory"

	got, err := s.GetAccessTokenSession(ctx, "at", nil)
	require.NoError(t, err)
	assert.Equal(t, "alice", got.GetSession().(*testSession).Subject)
}

func TestSecretsAreNotPersisted(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	req := testRequest(t, s, "c1", "req-1")
	req.Form.Set("client_assertion", "eyJ.secret.jwt")
	req.Form.Set("refresh_token", "ory_rt_secret")
	require.NoError(t, s.CreateAuthorizeCodeSession(ctx, "sig", req))
	require.NoError(t, s.CreateOpenIDConnectSession(ctx, "the-raw-code", req))

	for _, table := range []string{"authorize_codes", "oidc_sessions"} {
		var form string
		require.NoError(t, s.db.QueryRow(`SELECT form FROM `+table).Scan(&form))
		assert.Contains(t, form, "redirect_uri")
		for _, secret := range []string{"hunter2", "correct horse", "dBjftJeZ4CVP", "eyJ.secret.jwt", "ory_rt_secret"} {
			assert.NotContains(t, form, secret, table)
		}
	}
	assert.Equal(t, "hunter2", req.Form.Get("client_secret"), "the caller's form is left alone")

	var key string
	require.NoError(t, s.db.QueryRow(`SELECT code_hash FROM oidc_sessions`).Scan(&key))
	assert.NotEqual(t, "the-raw-code", key)
	assert.Len(t, key, 64)
}

func TestAuthorizeCodeIsSingleUse(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	req := testRequest(t, s, "c1", "req-1")
	require.NoError(t, s.CreateAuthorizeCodeSession(ctx, "code", req))

	require.NoError(t, s.InvalidateAuthorizeCodeSession(ctx, "code"))
	got, err := s.GetAuthorizeCodeSession(ctx, "code", nil)
	require.ErrorIs(t, err, fosite.ErrInvalidatedAuthorizeCode)
	assertSameRequest(t, req, got)

	assert.ErrorIs(t, s.InvalidateAuthorizeCodeSession(ctx, "code"), fosite.ErrInvalidatedAuthorizeCode)
	assert.ErrorIs(t, s.InvalidateAuthorizeCodeSession(ctx, "unknown"), fosite.ErrNotFound)
}

func TestRotateRefreshToken(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	req := testRequest(t, s, "c1", "req-1")
	other := testRequest(t, s, "c1", "req-2")
	require.NoError(t, s.CreateAccessTokenSession(ctx, "at-1", req))
	require.NoError(t, s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", req))
	require.NoError(t, s.CreateAccessTokenSession(ctx, "at-other", other))

	require.NoError(t, s.RotateRefreshToken(ctx, "req-1", "rt-1"))

	got, err := s.GetRefreshTokenSession(ctx, "rt-1", nil)
	require.ErrorIs(t, err, fosite.ErrInactiveToken)
	assertSameRequest(t, req, got)
	_, err = s.GetAccessTokenSession(ctx, "at-1", nil)
	assert.ErrorIs(t, err, fosite.ErrNotFound)
	_, err = s.GetAccessTokenSession(ctx, "at-other", nil)
	assert.NoError(t, err, "another grant's token is untouched")

	assert.ErrorIs(t, s.RotateRefreshToken(ctx, "req-1", "rt-1"), fosite.ErrInactiveToken)
	assert.ErrorIs(t, s.RotateRefreshToken(ctx, "req-1", "unknown"), fosite.ErrNotFound)
	assert.ErrorIs(t, s.RotateRefreshToken(ctx, "req-2", "rt-1"), fosite.ErrNotFound, "signature of another grant")
}

func TestRevokeByRequestID(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	req := testRequest(t, s, "c1", "req-1")
	other := testRequest(t, s, "c1", "req-2")
	for _, r := range []*fosite.Request{req, other} {
		require.NoError(t, s.CreateAccessTokenSession(ctx, "at-"+r.ID, r))
		require.NoError(t, s.CreateAccessTokenSession(ctx, "at2-"+r.ID, r))
		require.NoError(t, s.CreateRefreshTokenSession(ctx, "rt-"+r.ID, "at-"+r.ID, r))
	}

	require.NoError(t, s.RevokeAccessToken(ctx, "req-1"))
	require.NoError(t, s.RevokeRefreshToken(ctx, "req-1"))
	require.NoError(t, s.RevokeAccessToken(ctx, "unknown"))
	require.NoError(t, s.RevokeRefreshToken(ctx, "unknown"))

	for _, sig := range []string{"at-req-1", "at2-req-1"} {
		_, err := s.GetAccessTokenSession(ctx, sig, nil)
		assert.ErrorIs(t, err, fosite.ErrNotFound, sig)
	}
	got, err := s.GetRefreshTokenSession(ctx, "rt-req-1", nil)
	assert.ErrorIs(t, err, fosite.ErrInactiveToken)
	assert.Equal(t, "req-1", got.GetID())

	_, err = s.GetAccessTokenSession(ctx, "at-req-2", nil)
	assert.NoError(t, err)
	_, err = s.GetRefreshTokenSession(ctx, "rt-req-2", nil)
	assert.NoError(t, err)
}

func TestTokenOwner(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	req := testRequest(t, s, "owner", "req-1")
	require.NoError(t, s.CreateAccessTokenSession(ctx, "at", req))
	require.NoError(t, s.CreateRefreshTokenSession(ctx, "rt", "at", req))
	require.NoError(t, s.RotateRefreshToken(ctx, "req-1", "rt"))

	id, err := s.ClientIDForRefreshTokenSignature(ctx, "rt")
	require.NoError(t, err)
	assert.Equal(t, "owner", id, "an inactive refresh token still has an owner")
	_, err = s.ClientIDForAccessTokenSignature(ctx, "at")
	assert.ErrorIs(t, err, fosite.ErrNotFound, "rotation deleted the access token")

	require.NoError(t, s.CreateAccessTokenSession(ctx, "at2", req))
	id, err = s.ClientIDForAccessTokenSignature(ctx, "at2")
	require.NoError(t, err)
	assert.Equal(t, "owner", id)
	_, err = s.ClientIDForRefreshTokenSignature(ctx, "unknown")
	assert.ErrorIs(t, err, fosite.ErrNotFound)
}

func TestTransactions(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	req := testRequest(t, s, "c1", "req-1")

	txCtx, err := s.BeginTX(ctx)
	require.NoError(t, err)
	_, err = s.BeginTX(txCtx)
	assert.Error(t, err, "nested transaction")
	require.NoError(t, s.CreateAccessTokenSession(txCtx, "rolled-back", req))
	_, err = s.GetAccessTokenSession(txCtx, "rolled-back", nil)
	require.NoError(t, err, "visible inside the transaction")
	require.NoError(t, s.Rollback(txCtx))
	_, err = s.GetAccessTokenSession(ctx, "rolled-back", nil)
	assert.ErrorIs(t, err, fosite.ErrNotFound)

	txCtx, err = s.BeginTX(ctx)
	require.NoError(t, err)
	require.NoError(t, s.CreateAccessTokenSession(txCtx, "committed", req))
	// A method with its own atomic step joins the open transaction.
	assert.ErrorIs(t, s.RotateRefreshToken(txCtx, "none", "none"), fosite.ErrNotFound)
	require.NoError(t, s.Commit(txCtx))
	assert.NoError(t, s.Rollback(txCtx), "rollback after commit, as fosite does on a failed commit")
	_, err = s.GetAccessTokenSession(ctx, "committed", nil)
	assert.NoError(t, err)

	assert.Error(t, s.Commit(ctx), "no transaction")
}
