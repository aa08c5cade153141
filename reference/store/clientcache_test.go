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

// TestClientReadsSeeEveryWrite: a client read after a write, through the
// store or in a transaction that committed, is the written one; a rolled
// back write leaves the client as it was.
func TestClientReadsSeeEveryWrite(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	name := func(id string) string {
		t.Helper()
		c, err := s.getClient(ctx, id)
		require.NoError(t, err)
		return c.Name
	}
	c := testClient("c1")
	require.NoError(t, s.CreateClient(ctx, c))
	assert.Equal(t, "Client c1", name("c1"))

	c.Name = "renamed"
	require.NoError(t, s.UpsertClient(ctx, c))
	assert.Equal(t, "renamed", name("c1"))

	txCtx, err := s.BeginTX(ctx)
	require.NoError(t, err)
	c.Name = "in a transaction"
	require.NoError(t, s.UpsertClient(txCtx, c))
	got, err := s.getClient(txCtx, "c1")
	require.NoError(t, err)
	assert.Equal(t, "in a transaction", got.Name, "the transaction sees its own write")
	require.NoError(t, s.Rollback(txCtx))
	assert.Equal(t, "renamed", name("c1"))

	txCtx, err = s.BeginTX(ctx)
	require.NoError(t, err)
	require.NoError(t, s.UpsertClient(txCtx, c))
	require.NoError(t, s.Commit(txCtx))
	assert.Equal(t, "in a transaction", name("c1"))

	require.NoError(t, s.DeleteClient(ctx, "c1"))
	_, err = s.getClient(ctx, "c1")
	assert.ErrorIs(t, err, fosite.ErrNotFound)
}

// TestReturnedClientsAreCopies: changing a client one caller got does not
// change what the next caller gets.
func TestReturnedClientsAreCopies(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	require.NoError(t, s.CreateClient(ctx, testClient("c1")))
	a, err := s.getClient(ctx, "c1")
	require.NoError(t, err)
	a.Name = "changed by a caller"
	a.RedirectURIs[0] = "https://attacker.example/cb"
	b, err := s.getClient(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, "Client c1", b.Name)
	assert.Equal(t, []string{"https://client.example/cb"}, b.RedirectURIs)
}

// TestNoStaleClientUnderRace: readers racing a writer never keep a value
// older than the last completed write.
func TestNoStaleClientUnderRace(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := testClient("c1")
	require.NoError(t, s.CreateClient(ctx, c))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := s.getClient(ctx, "c1")
				assert.NoError(t, err)
			}
		})
	}
	for i := range 200 {
		c.Name = fmt.Sprint("version ", i)
		require.NoError(t, s.UpsertClient(ctx, c))
		got, err := s.getClient(ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, c.Name, got.Name)
	}
	close(stop)
	wg.Wait()
}
