package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ory/fosite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGroupedWritesFailAlone: writes that share a commit behave as if each
// had its own: one that breaks a constraint fails, and only it.
func TestGroupedWritesFailAlone(t *testing.T) {
	for name, open := range bothSetUps {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			req := testRequest(t, s, "c1", "req")
			const writers, each = 8, 50
			var wg sync.WaitGroup
			errs := make([][]error, writers)
			for w := range writers {
				errs[w] = make([]error, each)
				wg.Go(func() {
					for i := range each {
						// Every writer writes the even signatures; odd ones
						// are its own.
						sig := fmt.Sprint("at-", i)
						if i%2 == 1 {
							sig = fmt.Sprint("at-", w, "-", i)
						}
						errs[w][i] = s.CreateAccessTokenSession(ctx, sig, req)
					}
				})
			}
			wg.Wait()

			for i := 0; i < each; i += 2 {
				won := 0
				for w := range writers {
					if errs[w][i] == nil {
						won++
					} else {
						assert.ErrorIs(t, errs[w][i], ErrConflict)
					}
				}
				assert.Equal(t, 1, won, "signature at-%d is stored once", i)
				_, err := s.GetAccessTokenSession(ctx, fmt.Sprint("at-", i), nil)
				assert.NoError(t, err)
			}
			for w := range writers {
				for i := 1; i < each; i += 2 {
					require.NoError(t, errs[w][i])
					_, err := s.GetAccessTokenSession(ctx, fmt.Sprint("at-", w, "-", i), nil)
					assert.NoError(t, err)
				}
			}
		})
	}
}

// TestCancelledWriteIsSkipped: a write whose caller gave up before it ran
// is not made.
func TestCancelledWriteIsSkipped(t *testing.T) {
	s := newStore(t)
	req := testRequest(t, s, "c1", "req")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, s.CreateAccessTokenSession(ctx, "at-cancelled", req), context.Canceled)
	// Writes run in order: once a later one is committed, the cancelled
	// one has had its turn.
	require.NoError(t, s.CreateAccessTokenSession(context.Background(), "at-after", req))
	_, err := s.GetAccessTokenSession(context.Background(), "at-cancelled", nil)
	assert.ErrorIs(t, err, fosite.ErrNotFound)
}

// TestClosedStoreRefusesWrites: a write after Close gets an error, not a
// wait.
func TestClosedStoreRefusesWrites(t *testing.T) {
	s, err := OpenMemory(newTestSession)
	require.NoError(t, err)
	req := testRequest(t, s, "c1", "req")
	require.NoError(t, s.Close())
	assert.Error(t, s.CreateAccessTokenSession(context.Background(), "at-late", req))
}
