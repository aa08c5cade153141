package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// fosite's factories type-assert the storage and panic at start-up when a
// method is missing; these make the compiler check instead.
var (
	_ fosite.ClientManager               = (*Store)(nil)
	_ oauth2.CoreStorage                 = (*Store)(nil)
	_ oauth2.TokenRevocationStorage      = (*Store)(nil)
	_ openid.OpenIDConnectRequestStorage = (*Store)(nil)
	_ pkce.PKCERequestStorage            = (*Store)(nil)
)

const (
	sqliteConstraintPrimaryKey = sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintForeignKey = sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
)

func isConstraint(err error, code int) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == code
}

// GetClient returns the client as a *Client, or fosite.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.getClient(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ClientAssertionJWTValid returns fosite.ErrJTIKnown if a client assertion
// with this JTI was seen and has not expired yet (RFC 7523 §3, item 7).
func (s *Store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	var n int
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT COUNT(*) FROM client_assertion_jtis WHERE jti = ? AND expires_at > ?`,
		jti, time.Now().UnixNano()).Scan(&n)
	if err != nil {
		return fmt.Errorf("store: jti: %w", err)
	}
	if n > 0 {
		return fosite.ErrJTIKnown
	}
	return nil
}

// SetClientAssertionJWT records a JTI until exp. A JTI that is still
// recorded gives fosite.ErrJTIKnown, so two parallel requests with the same
// assertion cannot both pass.
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		now := time.Now().UnixNano()
		if _, err := s.q(ctx).ExecContext(ctx,
			`DELETE FROM client_assertion_jtis WHERE expires_at <= ?`, now); err != nil {
			return fmt.Errorf("store: jti: %w", err)
		}
		res, err := s.q(ctx).ExecContext(ctx,
			`INSERT INTO client_assertion_jtis (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING`,
			jti, exp.UTC().UnixNano())
		if err != nil {
			return fmt.Errorf("store: jti: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: jti: %w", err)
		} else if n == 0 {
			return fosite.ErrJTIKnown
		}
		return nil
	})
}

// CreateAuthorizeCodeSession stores the authorization request behind a
// code signature.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, signature string, r fosite.Requester) error {
	g, err := encodeRequest(r, fosite.AuthorizeCode)
	if err != nil {
		return err
	}
	return s.insertGrant(ctx, "authorize_codes", "signature, active", []any{signature, true}, g)
}

// GetAuthorizeCodeSession returns the request of a code. A code that was
// already exchanged gives the request together with
// fosite.ErrInvalidatedAuthorizeCode, which fosite needs to revoke the
// tokens issued for it (RFC 6749 §4.1.2: codes are single-use).
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	if fault.On("code-reuse-no-revoke") {
		// An inactive code reported as unknown: fosite then revokes nothing.
		return s.getActiveGrant(ctx, "authorize_codes", signature, fosite.ErrNotFound)
	}
	return s.getActiveGrant(ctx, "authorize_codes", signature, fosite.ErrInvalidatedAuthorizeCode)
}

// getActiveGrant reads a grant that can be deactivated; an inactive one is
// returned together with inactiveErr.
func (s *Store) getActiveGrant(ctx context.Context, table, signature string, inactiveErr error) (fosite.Requester, error) {
	var active bool
	g, err := scanGrant(s.q(ctx).QueryRowContext(ctx,
		`SELECT active, `+grantSelect+` FROM `+table+` WHERE signature = ?`, signature), &active)
	if err != nil {
		return nil, err
	}
	r, err := s.decodeRequest(ctx, g)
	if err != nil {
		return nil, err
	}
	if !active {
		return r, inactiveErr
	}
	return r, nil
}

// InvalidateAuthorizeCodeSession marks a code used. Of two concurrent
// exchanges of one code only the first succeeds; the second gets
// fosite.ErrInvalidatedAuthorizeCode and issues nothing.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	if fault.On("code-reuse-allowed") {
		return nil
	}
	return s.deactivate(ctx, "authorize_codes", signature, fosite.ErrInvalidatedAuthorizeCode)
}

// deactivate flips active from true to false in one statement, so the
// check and the update cannot interleave with another caller's.
func (s *Store) deactivate(ctx context.Context, table, signature string, inactiveErr error) error {
	res, err := s.q(ctx).ExecContext(ctx,
		`UPDATE `+table+` SET active = 0 WHERE signature = ? AND active = 1`, signature)
	if err != nil {
		return fmt.Errorf("store: %s: %w", table, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: %s: %w", table, err)
	} else if n == 1 {
		return nil
	}
	var exists int
	if err := s.q(ctx).QueryRowContext(ctx,
		`SELECT COUNT(*) FROM `+table+` WHERE signature = ?`, signature).Scan(&exists); err != nil {
		return fmt.Errorf("store: %s: %w", table, err)
	}
	if exists == 0 {
		return fosite.ErrNotFound
	}
	return inactiveErr
}

// CreateAccessTokenSession stores the request behind an access token
// signature.
func (s *Store) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	g, err := encodeRequest(r, fosite.AccessToken)
	if err != nil {
		return err
	}
	return s.insertGrant(ctx, "access_tokens", "signature", []any{signature}, g)
}

// GetAccessTokenSession returns the request of an access token, or
// fosite.ErrNotFound once it has been revoked: revocation deletes access
// tokens, and introspection reports any lookup error as inactive.
func (s *Store) GetAccessTokenSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	return s.getGrant(ctx, "access_tokens", "signature", signature)
}

// DeleteAccessTokenSession removes an access token; a missing one is not
// an error.
func (s *Store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return s.deleteGrant(ctx, "access_tokens", "signature", signature)
}

// RefreshScoper is a session whose refresh token keeps a wider scope than
// the access token issued with it.
type RefreshScoper interface {
	RefreshTokenScopes() []string
}

// CreateRefreshTokenSession stores the request behind a refresh token
// signature, with the signature of the access token issued alongside.
func (s *Store) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, r fosite.Requester) error {
	g, err := encodeRequest(r, fosite.RefreshToken)
	if err != nil {
		return err
	}
	if rs, ok := r.GetSession().(RefreshScoper); ok && len(rs.RefreshTokenScopes()) > 0 {
		// RFC 6749 §6: the new refresh token keeps the original scope
		// even when the access token was narrowed.
		b, err := json.Marshal(rs.RefreshTokenScopes())
		if err != nil {
			return fmt.Errorf("store: encode request: %w", err)
		}
		g.grantedScopes = string(b)
	}
	return s.insertGrant(ctx, "refresh_tokens", "signature, active, access_signature",
		[]any{signature, true, accessSignature}, g)
}

// GetRefreshTokenSession returns the request of a refresh token. A rotated
// or revoked token gives the request together with fosite.ErrInactiveToken,
// from which fosite detects reuse and revokes the whole grant (RFC 6819
// §5.2.2.3).
func (s *Store) GetRefreshTokenSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	return s.getActiveGrant(ctx, "refresh_tokens", signature, fosite.ErrInactiveToken)
}

// DeleteRefreshTokenSession removes a refresh token; a missing one is not
// an error.
func (s *Store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return s.deleteGrant(ctx, "refresh_tokens", "signature", signature)
}

// RotateRefreshToken deactivates the refresh token being exchanged and
// deletes the access tokens of its grant. The token stays stored, inactive,
// so that presenting it again is recognised as reuse. If a concurrent
// refresh rotated it first, this returns fosite.ErrInactiveToken and fosite
// rolls the losing request back.
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, refreshSignature string) error {
	if fault.On("refresh-not-rotated") {
		return s.RevokeAccessToken(ctx, requestID)
	}
	return s.inTx(ctx, func(ctx context.Context) error {
		res, err := s.q(ctx).ExecContext(ctx,
			`UPDATE refresh_tokens SET active = 0 WHERE signature = ? AND request_id = ? AND active = 1`,
			refreshSignature, requestID)
		if err != nil {
			return fmt.Errorf("store: rotate refresh token: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: rotate refresh token: %w", err)
		} else if n == 0 {
			var exists int
			if err := s.q(ctx).QueryRowContext(ctx,
				`SELECT COUNT(*) FROM refresh_tokens WHERE signature = ? AND request_id = ?`,
				refreshSignature, requestID).Scan(&exists); err != nil {
				return fmt.Errorf("store: rotate refresh token: %w", err)
			}
			if exists == 0 {
				return fosite.ErrNotFound
			}
			return fosite.ErrInactiveToken
		}
		return s.RevokeAccessToken(ctx, requestID)
	})
}

// RevokeRefreshToken deactivates every refresh token of a grant (RFC 7009
// §2.1). Unknown request IDs are not an error.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	query := `UPDATE refresh_tokens SET active = 0 WHERE request_id = ?`
	if fault.On("revoke-refresh-wrong-column") {
		query = `UPDATE refresh_tokens SET active = 0 WHERE signature = ?`
	}
	if _, err := s.q(ctx).ExecContext(ctx, query, requestID); err != nil {
		return fmt.Errorf("store: revoke refresh token: %w", err)
	}
	return nil
}

// RevokeAccessToken deletes every access token of a grant (RFC 7009 §2.1).
// Unknown request IDs are not an error.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	if fault.On("revoke-access-wrong-column") {
		return s.deleteGrant(ctx, "access_tokens", "signature", requestID)
	}
	return s.deleteGrant(ctx, "access_tokens", "request_id", requestID)
}

// CreatePKCERequestSession stores the code challenge of a code signature.
func (s *Store) CreatePKCERequestSession(ctx context.Context, signature string, r fosite.Requester) error {
	if fault.On("pkce-challenge-not-stored") {
		return nil
	}
	g, err := encodeRequest(r, fosite.AuthorizeCode)
	if err != nil {
		return err
	}
	return s.insertGrant(ctx, "pkce_requests", "signature", []any{signature}, g)
}

// GetPKCERequestSession returns the request holding the code challenge.
func (s *Store) GetPKCERequestSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	return s.getGrant(ctx, "pkce_requests", "signature", signature)
}

// DeletePKCERequestSession removes a code challenge.
func (s *Store) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return s.deleteGrant(ctx, "pkce_requests", "signature", signature)
}

// codeHash keys OpenID Connect sessions. fosite hands this interface the
// raw authorization code, which must not sit in the database usable.
func codeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// CreateOpenIDConnectSession stores the authorization request that will
// produce the ID token when the code is exchanged.
func (s *Store) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	g, err := encodeRequest(r, fosite.AuthorizeCode)
	if err != nil {
		return err
	}
	return s.insertGrant(ctx, "oidc_sessions", "code_hash", []any{codeHash(code)}, g)
}

// GetOpenIDConnectSession returns the stored authorization request of a
// code, or fosite.ErrNotFound (openid.ErrNoSessionFound).
func (s *Store) GetOpenIDConnectSession(ctx context.Context, code string, _ fosite.Requester) (fosite.Requester, error) {
	return s.getGrant(ctx, "oidc_sessions", "code_hash", codeHash(code))
}

// DeleteOpenIDConnectSession removes the OpenID Connect session of a code.
func (s *Store) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.deleteGrant(ctx, "oidc_sessions", "code_hash", codeHash(code))
}

func (s *Store) getGrant(ctx context.Context, table, keyColumn, key string) (fosite.Requester, error) {
	g, err := scanGrant(s.q(ctx).QueryRowContext(ctx,
		`SELECT `+grantSelect+` FROM `+table+` WHERE `+keyColumn+` = ?`, key))
	if err != nil {
		return nil, err
	}
	return s.decodeRequest(ctx, g)
}

func (s *Store) deleteGrant(ctx context.Context, table, keyColumn, key string) error {
	if _, err := s.q(ctx).ExecContext(ctx,
		`DELETE FROM `+table+` WHERE `+keyColumn+` = ?`, key); err != nil {
		return fmt.Errorf("store: delete from %s: %w", table, err)
	}
	return nil
}

// ClientIDForAccessTokenSignature returns the client an access token was
// issued to, or fosite.ErrNotFound, so the revocation endpoint can refuse to
// revoke another client's token (RFC 7009 §2.1).
func (s *Store) ClientIDForAccessTokenSignature(ctx context.Context, signature string) (string, error) {
	return s.clientIDFor(ctx, "access_tokens", signature)
}

// ClientIDForRefreshTokenSignature returns the client a refresh token was
// issued to, active or not, or fosite.ErrNotFound.
func (s *Store) ClientIDForRefreshTokenSignature(ctx context.Context, signature string) (string, error) {
	return s.clientIDFor(ctx, "refresh_tokens", signature)
}

func (s *Store) clientIDFor(ctx context.Context, table, signature string) (string, error) {
	var id string
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT client_id FROM `+table+` WHERE signature = ?`, signature).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fosite.ErrNotFound
	} else if err != nil {
		return "", fmt.Errorf("store: %s owner: %w", table, err)
	}
	return id, nil
}
