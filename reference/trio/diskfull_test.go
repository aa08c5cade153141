package trio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// fullDisk mounts a small tmpfs for the state directory, or skips.
func fullDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("TestDiskFull mounts a tmpfs and so needs root; run it as root (it skips otherwise)")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m,mode=0700"); err != nil {
		t.Skipf("TestDiskFull: cannot mount a tmpfs on %s (%v); it needs CAP_SYS_ADMIN", dir, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.True(t, errors.Is(err, syscall.ENOSPC), "filling: %v", err)
			return
		}
	}
}

// TestDiskFull: with no space left, requests that must write get the
// specs' temporarily_unavailable, what only reads keeps working, and
// everything recovers by itself once space returns.
func TestDiskFull(t *testing.T) {
	state := fullDisk(t)
	tr := startTrioWith(t, trio.Config{Addr: "127.0.0.1:0", StateDir: state, FixtureHashCost: bcrypt.MinCost})
	rp := newRelyingParty(t, tr, allScopes...)
	tok := rp.authorize(t, newBrowser(t, tr))
	token := func() (int, map[string]any) {
		return postForm(t, tr, tr.Issuer()+"/token", postmanClientID, postmanClientSecret,
			url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}})
	}

	filler := filepath.Join(state, "filler")
	fill(t, filler)
	// SQLite may still reuse WAL space it holds; it runs out soon.
	refused := false
	for range 2000 {
		status, body := token()
		if status == http.StatusOK {
			continue
		}
		require.Equal(t, http.StatusServiceUnavailable, status, "%v", body)
		require.Equal(t, "temporarily_unavailable", body["error"])
		refused = true
		break
	}
	require.True(t, refused, "the disk never filled up: the test would test nothing")
	// A checkpoint running in the background may still free WAL space.
	// Let one finish, fill what it freed, and the disk is full for good.
	_ = tr.Store.Checkpoint(context.Background())
	fill(t, filepath.Join(state, "filler-2"))

	t.Run("writes fail with spec errors", func(t *testing.T) {
		status, body := token()
		assert.Equal(t, http.StatusServiceUnavailable, status)
		assert.Equal(t, "temporarily_unavailable", body["error"])

		req, err := http.NewRequest(http.MethodPost, tr.Issuer()+"/register", strings.NewReader(`{"redirect_uris":["https://rp.test/cb"]}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := tr.HTTPClient().Do(req)
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", raw)
		assert.Contains(t, string(raw), `"error":"temporarily_unavailable"`)

		// A login cannot be recorded: the client hears why (RFC 6749
		// §4.1.2.1).
		req2 := rp.newRequest(t)
		b := newBrowser(t, tr)
		p := b.login(b.get(req2.url), developer, developerPassword)
		if p.has("consent-form") { // consent is stored after login
			p = b.consent(p, "approve")
		}
		assert.Equal(t, "temporarily_unavailable", authorizationResponse(t, p).Get("error"))
	})
	t.Run("reads keep working", func(t *testing.T) {
		assert.Equal(t, true, introspect(t, tr, tok.AccessToken)["active"])
		assert.NotEmpty(t, rp.jwks(t).Keys)
		req, err := http.NewRequest(http.MethodGet, tr.Issuer()+"/userinfo", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := tr.HTTPClient().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})

	require.NoError(t, os.Remove(filler))
	require.NoError(t, os.Remove(filepath.Join(state, "filler-2")))
	require.Eventually(t, func() bool {
		status, _ := token()
		return status == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "the server recovers when space returns")
	refreshed, err := rp.refresh(tok.RefreshToken)
	require.NoError(t, err, "the refresh token held through the full disk still works")
	assert.NotEmpty(t, refreshed.AccessToken)
	rp.authorize(t, newBrowser(t, tr))
}
