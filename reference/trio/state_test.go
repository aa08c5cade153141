package trio_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/reference/store"
	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// TestStateDirectoryMustBePrivate: the state holds private keys, so a
// directory other users may enter is refused with the fix in the message.
func TestStateDirectoryMustBePrivate(t *testing.T) {
	for _, mode := range []os.FileMode{0o755, 0o750, 0o701} {
		dir := t.TempDir()
		require.NoError(t, os.Chmod(dir, mode))
		_, err := trio.Start(context.Background(), trio.Config{Addr: "127.0.0.1:0", StateDir: dir})
		require.Errorf(t, err, "mode %#o", mode)
		assert.Contains(t, err.Error(), "chmod 700 "+dir)
		_, err = trio.RotateKey(context.Background(), dir, "RS256", time.Hour)
		assert.Errorf(t, err, "rotate-key on mode %#o", mode)
	}
}

// TestStateDirectoryLock: a second trio on the same state directory is
// refused while the first runs, and starts once it has stopped.
func TestStateDirectoryLock(t *testing.T) {
	dir := privateDir(t)
	cfg := trio.Config{Addr: "127.0.0.1:0", StateDir: dir}
	first, err := trio.Start(context.Background(), cfg)
	require.NoError(t, err)

	_, err = trio.Start(context.Background(), cfg)
	var inUse *trio.StateInUseError
	require.ErrorAs(t, err, &inUse)
	assert.Equal(t, os.Getpid(), inUse.PID)
	_, err = trio.RotateKey(context.Background(), dir, "RS256", time.Hour)
	assert.ErrorAs(t, err, &inUse, "rotate-key must not change a running server's keys")

	require.NoError(t, first.Close(context.Background()))
	startTrioWith(t, cfg)
}

// TestPurgeRunsPeriodically: expired state and unused registrations go
// without anyone calling PurgeExpired.
func TestPurgeRunsPeriodically(t *testing.T) {
	tr := startTrioWith(t, trio.Config{Addr: "127.0.0.1:0", StateDir: privateDir(t), PurgeInterval: 20 * time.Millisecond})
	ctx := context.Background()
	c := &store.Client{
		DefaultOpenIDConnectClient: &fosite.DefaultOpenIDConnectClient{DefaultClient: &fosite.DefaultClient{ID: "stale-registration"}},
		Dynamic:                    true,
		CreatedAt:                  time.Now().Add(-48 * time.Hour).UTC(),
	}
	// The login session first: a pass purges expired state before unused
	// clients, so the pass that takes the client has taken it too.
	require.NoError(t, tr.Store.CreateLoginSession(ctx, store.LoginSession{
		ID: "expired-login", Username: developer, ExpiresAt: time.Now().Add(-time.Second),
	}))
	require.NoError(t, tr.Store.CreateClient(ctx, c))
	require.Eventually(t, func() bool {
		_, err := tr.Store.GetClient(ctx, c.ID)
		return errors.Is(err, fosite.ErrNotFound)
	}, 10*time.Second, 20*time.Millisecond, "the unused registration is purged")
	n, err := tr.Store.PurgeExpired(ctx, time.Now())
	require.NoError(t, err)
	assert.Zero(t, n, "the periodic purge left nothing expired behind")
}
