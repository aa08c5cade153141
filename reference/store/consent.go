package store

import (
	"context"
	"fmt"
	"time"
)

// GrantConsent records that a user (by subject) granted scopes to a
// client; scopes granted before stay granted.
func (s *Store) GrantConsent(ctx context.Context, subject, clientID string, scopes []string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		for _, scope := range scopes {
			if _, err := s.q(ctx).ExecContext(ctx,
				`INSERT INTO consents (subject, client_id, scope) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				subject, clientID, scope); err != nil {
				return fmt.Errorf("store: grant consent: %w", err)
			}
		}
		return nil
	})
}

// ConsentedScopes returns the scopes a user (by subject) has granted a
// client.
func (s *Store) ConsentedScopes(ctx context.Context, subject, clientID string) ([]string, error) {
	rows, err := s.q(ctx).QueryContext(ctx,
		`SELECT scope FROM consents WHERE subject = ? AND client_id = ? ORDER BY scope`, subject, clientID)
	if err != nil {
		return nil, fmt.Errorf("store: consents: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var scope string
		if err := rows.Scan(&scope); err != nil {
			return nil, fmt.Errorf("store: consents: %w", err)
		}
		out = append(out, scope)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: consents: %w", err)
	}
	return out, nil
}

// PurgeUnusedClients deletes dynamically registered clients created before
// registeredBefore that hold no code, token or consent: a registration
// nobody used. It returns how many went.
func (s *Store) PurgeUnusedClients(ctx context.Context, registeredBefore time.Time) (int64, error) {
	res, err := s.q(ctx).ExecContext(ctx, `
		DELETE FROM clients
		WHERE json_extract(data, '$.dynamic') = 1
			AND unixepoch(json_extract(data, '$.created_at')) < ?
			AND NOT EXISTS (SELECT 1 FROM authorize_codes g WHERE g.client_id = clients.id)
			AND NOT EXISTS (SELECT 1 FROM access_tokens g WHERE g.client_id = clients.id)
			AND NOT EXISTS (SELECT 1 FROM refresh_tokens g WHERE g.client_id = clients.id)
			AND NOT EXISTS (SELECT 1 FROM consents g WHERE g.client_id = clients.id)`,
		registeredBefore.Unix())
	s.clientsChanged(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: purge clients: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: purge clients: %w", err)
	}
	return n, nil
}
