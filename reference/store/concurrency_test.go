package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentRotationAndReuse races many goroutines over one refresh
// token and one code, on both the in-memory and the WAL file set-up: each
// may be consumed exactly once, and readers always get the requester.
func TestConcurrentRotationAndReuse(t *testing.T) {
	for name, open := range bothSetUps {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			const grants, workers = 4, 8

			for g := range grants {
				req := testRequest(t, s, "c1", fmt.Sprint("req-", g))
				require.NoError(t, s.CreateAuthorizeCodeSession(ctx, fmt.Sprint("code-", g), req))
				require.NoError(t, s.CreateAccessTokenSession(ctx, fmt.Sprint("at-", g), req))
				require.NoError(t, s.CreateRefreshTokenSession(ctx, fmt.Sprint("rt-", g), fmt.Sprint("at-", g), req))
			}

			var rotated, invalidated [grants]atomic.Int32
			var wg sync.WaitGroup
			for w := range workers {
				for g := range grants {
					reqID, rt, code := fmt.Sprint("req-", g), fmt.Sprint("rt-", g), fmt.Sprint("code-", g)
					// A rotation as fosite's refresh grant does it: in
					// a transaction, replacing the old token pair.
					newReq := testRequest(t, s, "c1", reqID)
					wg.Go(func() {
						txCtx, err := s.BeginTX(ctx)
						if !assert.NoError(t, err) {
							return
						}
						err = s.RotateRefreshToken(txCtx, reqID, rt)
						if err == nil {
							err = errors.Join(
								s.CreateAccessTokenSession(txCtx, fmt.Sprint("at-", g, "-", w), newReq),
								s.CreateRefreshTokenSession(txCtx, fmt.Sprint("rt-", g, "-", w), fmt.Sprint("at-", g, "-", w), newReq))
							if assert.NoError(t, err) {
								assert.NoError(t, s.Commit(txCtx))
								rotated[g].Add(1)
							}
							return
						}
						assert.ErrorIs(t, err, fosite.ErrInactiveToken)
						assert.NoError(t, s.Rollback(txCtx))
					})
					wg.Go(func() {
						if err := s.InvalidateAuthorizeCodeSession(ctx, code); err == nil {
							invalidated[g].Add(1)
						} else {
							assert.ErrorIs(t, err, fosite.ErrInvalidatedAuthorizeCode)
						}
					})
					wg.Go(func() {
						r, err := s.GetRefreshTokenSession(ctx, rt, nil)
						if err != nil {
							assert.ErrorIs(t, err, fosite.ErrInactiveToken)
						}
						if assert.NotNil(t, r) {
							assert.Equal(t, reqID, r.GetID())
						}
					})
				}
			}
			wg.Wait()

			for g := range grants {
				assert.EqualValues(t, 1, rotated[g].Load(), "grant %d rotated once", g)
				assert.EqualValues(t, 1, invalidated[g].Load(), "code %d used once", g)
				_, err := s.GetAccessTokenSession(ctx, fmt.Sprint("at-", g), nil)
				assert.ErrorIs(t, err, fosite.ErrNotFound)
				var live int
				require.NoError(t, s.db.QueryRow(
					`SELECT COUNT(*) FROM refresh_tokens WHERE request_id = ? AND active = 1`,
					fmt.Sprint("req-", g)).Scan(&live))
				assert.Equal(t, 1, live, "one live refresh token per grant")
			}
		})
	}
}

// TestAbandonedTransactionFreesTheWriter: a request whose context ends
// inside a transaction, without Commit or Rollback, must not keep the
// writer slot, or every later write would wait forever.
func TestAbandonedTransactionFreesTheWriter(t *testing.T) {
	s := newStore(t)
	abandoned, later := testRequest(t, s, "c1", "req-abandoned"), testRequest(t, s, "c1", "req-later")
	reqCtx, cancel := context.WithCancel(context.Background())
	txCtx, err := s.BeginTX(reqCtx)
	require.NoError(t, err)
	require.NoError(t, s.CreateAccessTokenSession(txCtx, "abandoned", abandoned))
	cancel()

	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	require.NoError(t, s.CreateAccessTokenSession(ctx, "later", later),
		"a write after the abandoned transaction")
	_, err = s.GetAccessTokenSession(ctx, "abandoned", nil)
	assert.ErrorIs(t, err, fosite.ErrNotFound, "the abandoned transaction was rolled back")
}

// TestStatementsArePreparedOnce: the same query text reuses one prepared
// statement, inside and outside transactions.
func TestStatementsArePreparedOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, s.CreateAccessTokenSession(ctx, fmt.Sprint("at-", i), testRequest(t, s, "c1", fmt.Sprint("req-", i))))
		_, err := s.GetAccessTokenSession(ctx, fmt.Sprint("at-", i), nil)
		require.NoError(t, err)
	}
	count := func() (n int) {
		s.stmts.m.Range(func(_, _ any) bool { n++; return true })
		return n
	}
	before := count()
	require.NotZero(t, before)
	require.NoError(t, s.inTx(ctx, func(ctx context.Context) error {
		_, err := s.GetAccessTokenSession(ctx, "at-0", nil)
		return err
	}))
	_, err := s.GetAccessTokenSession(ctx, "at-1", nil)
	require.NoError(t, err)
	assert.Equal(t, before, count(), "no new statement for queries already seen")
}
