package store

import (
	"context"
	"fmt"
)

// grantColumns are shared by every table that holds a serialised fosite
// request. Times are Unix nanoseconds in UTC; expires_at is NULL for a
// grant that never expires. Grants go with their client.
const grantColumns = `
	request_id         TEXT    NOT NULL,
	requested_at       INTEGER NOT NULL,
	client_id          TEXT    NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	requested_scopes   TEXT    NOT NULL,
	granted_scopes     TEXT    NOT NULL,
	requested_audience TEXT    NOT NULL,
	granted_audience   TEXT    NOT NULL,
	form               TEXT    NOT NULL,
	session            TEXT    NOT NULL,
	expires_at         INTEGER`

// migrations are applied in order, each once; PRAGMA user_version records
// how many have run. Append new steps, never edit released ones.
var migrations = []string{
	`
CREATE TABLE clients (
	id   TEXT PRIMARY KEY,
	data TEXT NOT NULL
);
CREATE TABLE users (
	username TEXT PRIMARY KEY,
	data     TEXT NOT NULL
);
CREATE TABLE login_sessions (
	id         TEXT PRIMARY KEY,
	username   TEXT    NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	auth_time  INTEGER,
	expires_at INTEGER NOT NULL
);
CREATE TABLE signing_keys (
	kid         TEXT PRIMARY KEY,
	algorithm   TEXT    NOT NULL,
	private_jwk BLOB    NOT NULL,
	created_at  INTEGER,
	active      INTEGER NOT NULL,
	retire_at   INTEGER
);
CREATE TABLE client_assertion_jtis (
	jti        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
);
CREATE TABLE authorize_codes (
	signature TEXT PRIMARY KEY,
	active    INTEGER NOT NULL,` + grantColumns + `
);
CREATE TABLE access_tokens (
	signature TEXT PRIMARY KEY,` + grantColumns + `
);
CREATE TABLE refresh_tokens (
	signature        TEXT PRIMARY KEY,
	active           INTEGER NOT NULL,
	access_signature TEXT    NOT NULL,` + grantColumns + `
);
CREATE TABLE pkce_requests (
	signature TEXT PRIMARY KEY,` + grantColumns + `
);
CREATE TABLE oidc_sessions (
	code_hash TEXT PRIMARY KEY,` + grantColumns + `
);
CREATE INDEX authorize_codes_request_id ON authorize_codes(request_id);
CREATE INDEX access_tokens_request_id ON access_tokens(request_id);
CREATE INDEX refresh_tokens_request_id ON refresh_tokens(request_id);
CREATE INDEX authorize_codes_client_id ON authorize_codes(client_id);
CREATE INDEX access_tokens_client_id ON access_tokens(client_id);
CREATE INDEX refresh_tokens_client_id ON refresh_tokens(client_id);
CREATE INDEX pkce_requests_client_id ON pkce_requests(client_id);
CREATE INDEX oidc_sessions_client_id ON oidc_sessions(client_id);
CREATE INDEX login_sessions_username ON login_sessions(username);
`,
	// Consents outlive a restart and go with their client. They are kept
	// by subject, which a hook may choose apart from any stored user.
	`
CREATE TABLE consents (
	subject   TEXT NOT NULL,
	client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	scope     TEXT NOT NULL,
	PRIMARY KEY (subject, client_id, scope)
);
CREATE INDEX consents_client_id ON consents(client_id);
`,
}

// migrate applies the migrations the database has not seen yet. The
// version is read inside the write transaction, so two processes opening
// the same new file cannot both create the schema.
func (s *Store) migrate(ctx context.Context) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		var version int
		if err := s.raw(ctx).QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
			return fmt.Errorf("store: schema version: %w", err)
		}
		if version > len(migrations) {
			return fmt.Errorf("store: database schema version %d is newer than this program's %d", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := s.raw(ctx).ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("store: migration %d: %w", i+1, err)
			}
			// PRAGMA takes no bound parameters; i is a trusted integer.
			if _, err := s.raw(ctx).ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
				return fmt.Errorf("store: migration %d: %w", i+1, err)
			}
		}
		return nil
	})
}
