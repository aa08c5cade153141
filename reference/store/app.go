package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ory/fosite"
)

// nullTime stores a zero time as NULL; time.Time{}.UnixNano is undefined.
func nullTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UTC().UnixNano(), Valid: true}
}

func fromNullTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func validClient(c *Client) error {
	if c == nil || c.DefaultOpenIDConnectClient == nil || c.DefaultClient == nil {
		return errors.New("store: incomplete client")
	}
	if c.ID == "" {
		return errors.New("store: client without id")
	}
	return nil
}

// encodeClient checks a client, dates it when new and encodes it.
func encodeClient(c *Client) ([]byte, error) {
	if err := validClient(c); err != nil {
		return nil, err
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	data, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("store: encode client: %w", err)
	}
	return data, nil
}

// CreateClient registers a new client, or returns ErrConflict if its id is
// taken. A zero CreatedAt is set to now.
func (s *Store) CreateClient(ctx context.Context, c *Client) error {
	data, err := encodeClient(c)
	if err != nil {
		return err
	}
	_, err = s.q(ctx).ExecContext(ctx, `INSERT INTO clients (id, data) VALUES (?, ?)`, c.ID, string(data))
	s.clientsChanged(ctx)
	if err != nil {
		if isConstraint(err, sqliteConstraintPrimaryKey) {
			return fmt.Errorf("store: client %q: %w", c.ID, ErrConflict)
		}
		return fmt.Errorf("store: create client: %w", err)
	}
	return nil
}

// UpsertClient creates or replaces a client. Replacing keeps the client's
// grants, so reloading fixtures at start-up does not log anyone out.
func (s *Store) UpsertClient(ctx context.Context, c *Client) error {
	data, err := encodeClient(c)
	if err != nil {
		return err
	}
	// ON CONFLICT DO UPDATE, not INSERT OR REPLACE: a replace deletes the
	// row first, and the foreign keys would cascade that to every grant.
	_, err = s.q(ctx).ExecContext(ctx,
		`INSERT INTO clients (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
		c.ID, string(data))
	s.clientsChanged(ctx)
	if err != nil {
		return fmt.Errorf("store: upsert client: %w", err)
	}
	return nil
}

// DeleteClient removes a client together with its codes and tokens, or
// returns fosite.ErrNotFound.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	res, err := s.q(ctx).ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
	s.clientsChanged(ctx)
	if err != nil {
		return fmt.Errorf("store: delete client: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: delete client: %w", err)
	} else if n == 0 {
		return fosite.ErrNotFound
	}
	return nil
}

// ListClients returns every client, ordered by id.
func (s *Store) ListClients(ctx context.Context) ([]*Client, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT data FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: list clients: %w", err)
	}
	defer rows.Close()
	var out []*Client
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("store: list clients: %w", err)
		}
		c, err := decodeClient(data)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list clients: %w", err)
	}
	return out, nil
}

// getClient decodes a fresh *Client on every call, so callers may change
// what they get. Inside a transaction it reads the database, which holds
// the transaction's own writes.
func (s *Store) getClient(ctx context.Context, id string) (*Client, error) {
	inTx := s.txOf(ctx) != nil
	data, gen, cached := s.clients.get(id)
	if !cached || inTx {
		err := s.q(ctx).QueryRowContext(ctx, `SELECT data FROM clients WHERE id = ?`, id).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fosite.ErrNotFound
		} else if err != nil {
			return nil, fmt.Errorf("store: get client: %w", err)
		}
		if !inTx {
			s.clients.put(id, data, gen)
		}
	}
	return decodeClient(data)
}

func decodeClient(data string) (*Client, error) {
	c := &Client{DefaultOpenIDConnectClient: &fosite.DefaultOpenIDConnectClient{DefaultClient: &fosite.DefaultClient{}}}
	if err := json.Unmarshal([]byte(data), c); err != nil {
		return nil, fmt.Errorf("store: decode client: %w", err)
	}
	return c, nil
}

// UpsertUser creates or replaces a user.
func (s *Store) UpsertUser(ctx context.Context, u *User) error {
	if u == nil || u.Username == "" {
		return errors.New("store: user without username")
	}
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("store: encode user: %w", err)
	}
	if _, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO users (username, data) VALUES (?, ?) ON CONFLICT (username) DO UPDATE SET data = excluded.data`,
		u.Username, string(data)); err != nil {
		return fmt.Errorf("store: upsert user: %w", err)
	}
	return nil
}

// GetUser returns a user, or fosite.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, username string) (*User, error) {
	var data string
	err := s.q(ctx).QueryRowContext(ctx, `SELECT data FROM users WHERE username = ?`, username).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fosite.ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("store: get user: %w", err)
	}
	u := new(User)
	if err := json.Unmarshal([]byte(data), u); err != nil {
		return nil, fmt.Errorf("store: decode user: %w", err)
	}
	return u, nil
}

// ListUsers returns every user, ordered by username.
func (s *Store) ListUsers(ctx context.Context) ([]*User, error) {
	rows, err := s.q(ctx).QueryContext(ctx, `SELECT data FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []*User
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		u := new(User)
		if err := json.Unmarshal([]byte(data), u); err != nil {
			return nil, fmt.Errorf("store: decode user: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// CreateLoginSession stores a login. The user must exist (else
// fosite.ErrNotFound); an existing ID gives ErrConflict.
func (s *Store) CreateLoginSession(ctx context.Context, ls LoginSession) error {
	if ls.ID == "" || ls.ExpiresAt.IsZero() {
		return errors.New("store: login session needs an ID and an expiry")
	}
	if _, err := s.q(ctx).ExecContext(ctx,
		`INSERT INTO login_sessions (id, username, auth_time, expires_at) VALUES (?, ?, ?, ?)`,
		ls.ID, ls.Username, nullTime(ls.AuthTime), ls.ExpiresAt.UTC().UnixNano()); err != nil {
		switch {
		case isConstraint(err, sqliteConstraintPrimaryKey):
			return fmt.Errorf("store: login session: %w", ErrConflict)
		case isConstraint(err, sqliteConstraintForeignKey):
			return fmt.Errorf("store: login session for user %q: %w", ls.Username, fosite.ErrNotFound)
		}
		return fmt.Errorf("store: create login session: %w", err)
	}
	return nil
}

// GetLoginSession returns a login that has not expired, or
// fosite.ErrNotFound.
func (s *Store) GetLoginSession(ctx context.Context, id string) (LoginSession, error) {
	ls := LoginSession{ID: id}
	var authTime sql.NullInt64
	var expiresAt int64
	err := s.q(ctx).QueryRowContext(ctx,
		`SELECT username, auth_time, expires_at FROM login_sessions WHERE id = ? AND expires_at > ?`,
		id, time.Now().UnixNano()).Scan(&ls.Username, &authTime, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return LoginSession{}, fosite.ErrNotFound
	} else if err != nil {
		return LoginSession{}, fmt.Errorf("store: get login session: %w", err)
	}
	ls.AuthTime = fromNullTime(authTime)
	ls.ExpiresAt = time.Unix(0, expiresAt).UTC()
	return ls, nil
}

// DeleteLoginSession ends a login; a missing one is not an error, so
// logging out twice is harmless.
func (s *Store) DeleteLoginSession(ctx context.Context, id string) error {
	if _, err := s.q(ctx).ExecContext(ctx, `DELETE FROM login_sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete login session: %w", err)
	}
	return nil
}

// AddSigningKey stores a key. When k is active, the key active until now
// becomes inactive and stays published until retirePreviousAt, so tokens it
// signed still verify; a zero retirePreviousAt keeps it published for good.
// A KID already stored gives ErrConflict. A zero CreatedAt is set to now.
func (s *Store) AddSigningKey(ctx context.Context, k SigningKey, retirePreviousAt time.Time) error {
	if k.KID == "" || len(k.PrivateJWK) == 0 {
		return errors.New("store: signing key needs a KID and a private JWK")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now().UTC()
	}
	return s.inTx(ctx, func(ctx context.Context) error {
		if k.Active {
			if _, err := s.q(ctx).ExecContext(ctx,
				`UPDATE signing_keys SET active = 0, retire_at = ? WHERE active = 1`,
				nullTime(retirePreviousAt)); err != nil {
				return fmt.Errorf("store: retire signing key: %w", err)
			}
		}
		if _, err := s.q(ctx).ExecContext(ctx,
			`INSERT INTO signing_keys (kid, algorithm, private_jwk, created_at, active, retire_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.KID, k.Algorithm, k.PrivateJWK, nullTime(k.CreatedAt), k.Active, nullTime(k.RetireAt)); err != nil {
			if isConstraint(err, sqliteConstraintPrimaryKey) {
				return fmt.Errorf("store: signing key %q: %w", k.KID, ErrConflict)
			}
			return fmt.Errorf("store: add signing key: %w", err)
		}
		return nil
	})
}

// SigningKeys returns the keys not yet retired: the active key first, then
// the others from newest to oldest. These are the keys to publish.
func (s *Store) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT kid, algorithm, private_jwk, created_at, active, retire_at FROM signing_keys
		WHERE retire_at IS NULL OR retire_at > ?
		ORDER BY active DESC, created_at DESC, kid`, time.Now().UnixNano())
	if err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var created, retire sql.NullInt64
		if err := rows.Scan(&k.KID, &k.Algorithm, &k.PrivateJWK, &created, &k.Active, &retire); err != nil {
			return nil, fmt.Errorf("store: signing keys: %w", err)
		}
		k.CreatedAt, k.RetireAt = fromNullTime(created), fromNullTime(retire)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: signing keys: %w", err)
	}
	return out, nil
}

// PurgeExpired deletes what expired before now: codes, tokens, PKCE and
// OpenID Connect sessions, login sessions, client-assertion JTIs and
// retired signing keys. It returns how many rows went.
//
// An expired code is kept while tokens issued from it live, so that its
// replay still revokes them (RFC 6749 §4.1.2). Inactive refresh tokens are
// kept until they expire, for the same reason.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	n := now.UTC().UnixNano()
	// Tokens go first, so that codes whose tokens just expired can go in
	// the same pass.
	stmts := []string{
		`DELETE FROM access_tokens WHERE expires_at < ?1`,
		`DELETE FROM refresh_tokens WHERE expires_at < ?1`,
		`DELETE FROM authorize_codes WHERE expires_at < ?1
			AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.request_id = authorize_codes.request_id)
			AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.request_id = authorize_codes.request_id)`,
		`DELETE FROM pkce_requests WHERE expires_at < ?1`,
		`DELETE FROM oidc_sessions WHERE expires_at < ?1`,
		`DELETE FROM login_sessions WHERE expires_at <= ?1`,
		`DELETE FROM client_assertion_jtis WHERE expires_at <= ?1`,
		`DELETE FROM signing_keys WHERE active = 0 AND retire_at <= ?1`,
	}
	var total int64
	err := s.inTx(ctx, func(ctx context.Context) error {
		for _, q := range stmts {
			res, err := s.q(ctx).ExecContext(ctx, q, n)
			if err != nil {
				return fmt.Errorf("store: purge: %w", err)
			}
			c, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("store: purge: %w", err)
			}
			total += c
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}
