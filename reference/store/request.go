package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// secretFormFields are request parameters that are credentials in their own
// right. fosite's Sanitize already drops most of them, but a caller may
// store an unsanitised request, and a database dump must not replay a
// client or a user.
var secretFormFields = []string{
	"client_secret",
	"client_assertion",
	"password",
	"code_verifier",
	"code",
	"refresh_token",
	"token",
	"assertion",
}

// grantRow is a fosite request in column form.
type grantRow struct {
	requestID         string
	requestedAt       int64
	clientID          string
	requestedScopes   string
	grantedScopes     string
	requestedAudience string
	grantedAudience   string
	form              string
	session           string
	expiresAt         sql.NullInt64
}

// grantSelect lists grantRow's columns in scan order.
const grantSelect = `request_id, requested_at, client_id, requested_scopes, granted_scopes,
	requested_audience, granted_audience, form, session, expires_at`

// encodeRequest serialises everything fosite reads back from a stored
// request. The session is marshalled here rather than kept by reference:
// Sanitize copies the request shallowly, so the caller's session pointer is
// shared with the live request and may still change after storing.
func encodeRequest(r fosite.Requester, expiry fosite.TokenType) (grantRow, error) {
	if r == nil {
		return grantRow{}, errors.New("store: nil request")
	}
	if r.GetClient() == nil {
		return grantRow{}, errors.New("store: request without client")
	}
	form := url.Values{}
	for k, v := range r.GetRequestForm() {
		form[k] = append([]string(nil), v...)
	}
	for _, k := range secretFormFields {
		delete(form, k)
	}
	if fault.On("code-redirect-uri-unbound") {
		delete(form, "redirect_uri")
	}
	row := grantRow{
		requestID:   r.GetID(),
		requestedAt: r.GetRequestedAt().UTC().UnixNano(),
		clientID:    r.GetClient().GetID(),
	}
	var err error
	enc := func(dst *string, v any) {
		if err != nil {
			return
		}
		var b []byte
		b, err = json.Marshal(v)
		*dst = string(b)
	}
	enc(&row.requestedScopes, nonNil(r.GetRequestedScopes()))
	enc(&row.grantedScopes, nonNil(r.GetGrantedScopes()))
	enc(&row.requestedAudience, nonNil(r.GetRequestedAudience()))
	enc(&row.grantedAudience, nonNil(r.GetGrantedAudience()))
	enc(&row.form, form)
	enc(&row.session, r.GetSession())
	if err != nil {
		return grantRow{}, fmt.Errorf("store: encode request: %w", err)
	}
	if sess := r.GetSession(); sess != nil {
		if exp := sess.GetExpiresAt(expiry); !exp.IsZero() {
			row.expiresAt = sql.NullInt64{Int64: exp.UTC().UnixNano(), Valid: true}
		}
	}
	return row, nil
}

func nonNil(a fosite.Arguments) fosite.Arguments {
	if a == nil {
		return fosite.Arguments{}
	}
	return a
}

// scanGrant reads grantSelect's columns, after any leading ones in extra.
func scanGrant(row *sql.Row, extra ...any) (grantRow, error) {
	var g grantRow
	dest := append(extra,
		&g.requestID, &g.requestedAt, &g.clientID, &g.requestedScopes, &g.grantedScopes,
		&g.requestedAudience, &g.grantedAudience, &g.form, &g.session, &g.expiresAt)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return g, fosite.ErrNotFound
		}
		return g, fmt.Errorf("store: %w", err)
	}
	return g, nil
}

// decodeRequest rebuilds a request with its client loaded afresh and its
// session decoded into a new value from newSession. The caller's session
// prototype is deliberately left alone: fosite passes the live request's
// session, for instance the one whose expiry the code exchange has just
// set, and handlers use the session of the returned request anyway.
func (s *Store) decodeRequest(ctx context.Context, g grantRow) (*fosite.Request, error) {
	client, err := s.GetClient(ctx, g.clientID)
	if err != nil {
		return nil, err
	}
	r := &fosite.Request{
		ID:          g.requestID,
		RequestedAt: time.Unix(0, g.requestedAt).UTC(),
		Client:      client,
		Form:        url.Values{},
		Session:     s.newSession(),
	}
	dec := func(src string, v any) {
		if err == nil {
			err = json.Unmarshal([]byte(src), v)
		}
	}
	dec(g.requestedScopes, &r.RequestedScope)
	dec(g.grantedScopes, &r.GrantedScope)
	dec(g.requestedAudience, &r.RequestedAudience)
	dec(g.grantedAudience, &r.GrantedAudience)
	dec(g.form, &r.Form)
	dec(g.session, r.Session)
	if err != nil {
		return nil, fmt.Errorf("store: decode request %s: %w", g.requestID, err)
	}
	return r, nil
}

// insertGrant writes a request into one of the grant tables. keyColumns and
// keyValues name the table's own leading columns.
func (s *Store) insertGrant(ctx context.Context, table string, keyColumns string, keyValues []any, g grantRow) error {
	placeholders := ""
	for range keyValues {
		placeholders += "?, "
	}
	query := `INSERT INTO ` + table + ` (` + keyColumns + `, ` + grantSelect + `)
		VALUES (` + placeholders + `?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	args := append(keyValues,
		g.requestID, g.requestedAt, g.clientID, g.requestedScopes, g.grantedScopes,
		g.requestedAudience, g.grantedAudience, g.form, g.session, g.expiresAt)
	if _, err := s.q(ctx).ExecContext(ctx, query, args...); err != nil {
		if isConstraint(err, sqliteConstraintPrimaryKey) {
			return fmt.Errorf("store: %s: %w", table, ErrConflict)
		}
		if isConstraint(err, sqliteConstraintForeignKey) {
			return fmt.Errorf("store: %s: client %q: %w", table, g.clientID, fosite.ErrNotFound)
		}
		return fmt.Errorf("store: insert into %s: %w", table, err)
	}
	return nil
}
