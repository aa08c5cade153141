package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDatabaseFilesArePrivate: the database holds the private signing keys,
// so its files are the owner's alone whatever the umask, and an existing
// file left readable by an older version is narrowed.
func TestDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	for _, existing := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "oauthtrio.db")
		if existing {
			require.NoError(t, os.WriteFile(path, nil, 0o644))
		}
		s, err := Open(path, newTestSession)
		require.NoError(t, err)
		require.NoError(t, s.CreateClient(context.Background(), testClient("c")))
		for _, name := range []string{"oauthtrio.db", "oauthtrio.db-wal", "oauthtrio.db-shm"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			require.NoError(t, err)
			assert.Equalf(t, os.FileMode(0o600), fi.Mode().Perm(), "%s (pre-existing file: %v)", name, existing)
		}
		require.NoError(t, s.Close())
	}
}

// TestWALStaysBounded: the WAL's size is capped after checkpoints, and
// Checkpoint empties it.
func TestWALStaysBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oauthtrio.db")
	s, err := Open(path, newTestSession)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	var limit int64
	require.NoError(t, s.db.QueryRowContext(ctx, `PRAGMA journal_size_limit`).Scan(&limit))
	assert.Equal(t, int64(journalSizeLimit), limit)

	for i := range 200 {
		c := testClient("client-" + strconv.Itoa(i))
		require.NoError(t, s.CreateClient(ctx, c))
	}
	require.NoError(t, s.Checkpoint(ctx))
	fi, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	assert.Zero(t, fi.Size(), "the WAL is truncated")
	var integrity string
	require.NoError(t, s.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity))
	assert.Equal(t, "ok", integrity)
}

// TestFullDatabaseIsUnavailable: SQLITE_FULL is a condition that passes,
// and the store recovers once there is room again.
func TestFullDatabaseIsUnavailable(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "oauthtrio.db"), newTestSession)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	// One connection, so the page limit below holds for every statement.
	s.db.SetMaxOpenConns(1)
	var pages int
	require.NoError(t, s.db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages))
	_, err = s.db.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.Itoa(pages))
	require.NoError(t, err)
	big := testClient("big")
	big.Name = string(make([]byte, 64<<10))
	err = s.CreateClient(ctx, big)
	require.Error(t, err)
	assert.True(t, Unavailable(err), "a full database is unavailable, not broken: %v", err)
	assert.False(t, Unavailable(errors.New("other")))
	assert.False(t, Unavailable(fosite.ErrNotFound))

	_, err = s.db.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`)
	require.NoError(t, err)
	require.NoError(t, s.CreateClient(ctx, big), "the store recovers when room returns")
}

func TestConsentsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oauthtrio.db")
	ctx := context.Background()
	s, err := Open(path, newTestSession)
	require.NoError(t, err)
	require.NoError(t, s.UpsertUser(ctx, &User{Username: "alice"}))
	require.NoError(t, s.CreateClient(ctx, testClient("c")))
	require.NoError(t, s.GrantConsent(ctx, "alice", "c", []string{"openid", "profile"}))
	require.NoError(t, s.GrantConsent(ctx, "alice", "c", []string{"openid", "email"}))
	require.NoError(t, s.Close())

	s, err = Open(path, newTestSession)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	got, err := s.ConsentedScopes(ctx, "alice", "c")
	require.NoError(t, err)
	assert.Equal(t, []string{"email", "openid", "profile"}, got)
	got, err = s.ConsentedScopes(ctx, "bob", "c")
	require.NoError(t, err)
	assert.Empty(t, got)
	// Consents go with their client.
	require.NoError(t, s.DeleteClient(ctx, "c"))
	got, err = s.ConsentedScopes(ctx, "alice", "c")
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestPurgeUnusedClients(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now()
	require.NoError(t, s.UpsertUser(ctx, &User{Username: "alice"}))
	add := func(id string, dynamic bool, age time.Duration) {
		c := testClient(id)
		c.Dynamic, c.CreatedAt = dynamic, now.Add(-age).UTC()
		require.NoError(t, s.CreateClient(ctx, c))
	}
	add("old-unused", true, 48*time.Hour)
	add("old-consented", true, 48*time.Hour)
	add("new-unused", true, time.Minute)
	add("configured", false, 48*time.Hour)
	require.NoError(t, s.GrantConsent(ctx, "alice", "old-consented", []string{"openid"}))

	n, err := s.PurgeUnusedClients(ctx, now.Add(-24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	for id, kept := range map[string]bool{"old-unused": false, "old-consented": true, "new-unused": true, "configured": true} {
		_, err := s.GetClient(ctx, id)
		assert.Equalf(t, kept, err == nil, "%s kept", id)
	}
}

// TestWALStaysSmallUnderConstantWrites: with writers never pausing, the
// checkpoints still complete and the WAL starts afresh, instead of growing
// with every token written.
func TestWALStaysSmallUnderConstantWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oauthtrio.db")
	s, err := Open(path, newTestSession)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	require.NoError(t, s.CreateClient(ctx, testClient("c1")))
	req := testRequest(t, s, "c1", "req")

	const writers, each = 8, 2000
	var largest atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > largest.Load() {
				largest.Store(fi.Size())
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				assert.NoError(t, s.CreateAccessTokenSession(ctx, fmt.Sprint("at-", w, "-", i), req))
			}
		})
	}
	wg.Wait()
	close(done)
	<-sampled
	// Without checkpoints that complete, the WAL keeps every page these
	// 16,000 tokens touched: over 200 MB. With them it holds what is
	// written until it reaches checkpointBytes and during the copy, at the
	// rate of a loop with no HTTP in it: about 50 MB on a 2-core machine.
	t.Logf("largest WAL: %d bytes", largest.Load())
	assert.Less(t, largest.Load(), int64(100<<20))
}
