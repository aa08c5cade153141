package authserver

import (
	"context"
	"net/http"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingValidator counts password checks: each one is a bcrypt run.
type countingValidator struct {
	base  UserValidator
	calls atomic.Int64
}

func (v *countingValidator) ValidateUser(ctx context.Context, cred Credentials, a *Authorization) (*Identity, error) {
	if !cred.Authenticated {
		v.calls.Add(1)
	}
	return v.base.ValidateUser(ctx, cred, a)
}

func throttled(t *testing.T, r response) {
	t.Helper()
	require.Equalf(t, http.StatusTooManyRequests, r.status, "%s", r.body)
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	m := regexp.MustCompile(`<code id="login-error-code">([^<]*)</code>`).FindStringSubmatch(r.body)
	require.NotNil(t, m, "the login page names the error: %s", r.body)
	assert.Equal(t, "temporarily_unavailable", m[1])
	_, _, ok := form(t, r, "login-form")
	assert.True(t, ok, "the user can try again from the page")
}

// TestLoginThrottling: wrong passwords in a row slow down further attempts
// per user and per address, without running bcrypt for refused attempts,
// and the delay ends by itself.
func TestLoginThrottling(t *testing.T) {
	newServer := func(t *testing.T, first time.Duration) (*harness, *countingValidator) {
		var v *countingValidator
		h := newHarnessStarting(t, func(c *Config) {
			c.LoginThrottle = ThrottlePolicy{FirstDelay: first, MaxDelay: first}
			v = &countingValidator{base: c.Hooks.ValidateUser}
			c.Hooks.ValidateUser = v
		}, fastHash, nil)
		return h, v
	}

	t.Run("63 wrong passwords, then the right one", func(t *testing.T) {
		h, v := newServer(t, time.Hour)
		b := h.browser()
		page := b.authorize(authParams(webClientID, ""))
		for range 63 {
			page = b.login(page, "developer", "wrong")
		}
		throttled(t, page)
		// The free failures, and the one that started the delay.
		assert.Equal(t, int64(h.as.cfg.LoginThrottle.FreeFailuresPerUser+1), v.calls.Load(), "refused attempts cost no bcrypt run")
		throttled(t, b.login(page, "developer", "test"))
	})
	t.Run("per address, whatever the user", func(t *testing.T) {
		h, _ := newServer(t, time.Hour)
		b := h.browser()
		page := b.authorize(authParams(webClientID, ""))
		for i := range h.as.cfg.LoginThrottle.FreeFailuresPerAddress + 1 {
			page = b.login(page, "nobody-"+string(rune('a'+i)), "wrong")
			require.Equal(t, http.StatusUnauthorized, page.status)
		}
		throttled(t, b.login(page, "someone-else", "wrong"))
	})
	t.Run("no permanent lockout", func(t *testing.T) {
		h, _ := newServer(t, 50*time.Millisecond)
		b := h.browser()
		page := b.authorize(authParams(webClientID, ""))
		for range 10 {
			page = b.login(page, "developer", "wrong")
		}
		require.Eventually(t, func() bool {
			page = b.login(page, "developer", "test")
			return page.status != http.StatusTooManyRequests
		}, 5*time.Second, 20*time.Millisecond)
		_, _, ok := form(t, page, "consent-form")
		assert.True(t, ok, "the right password works once the delay is over: %s", page.body)
	})
}

func TestThrottleDelays(t *testing.T) {
	p := ThrottlePolicy{FreeFailuresPerUser: 2, FreeFailuresPerAddress: 100, FirstDelay: time.Second, MaxDelay: 8 * time.Second, Forget: time.Hour}
	th := newThrottle(p)
	now := time.Now()
	user, addr := loginKeys("u", "a")
	var waits []time.Duration
	for range 7 {
		th.fail(now, user, addr)
		waits = append(waits, th.wait(now, user, addr))
	}
	// Doubling after the free failures, capped.
	assert.Equal(t, []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}, waits)
	// A record is forgotten after Forget.
	th.fail(now.Add(2*time.Hour), user, addr)
	assert.Zero(t, th.wait(now.Add(2*time.Hour), user, addr))
	// A correct password clears the user's record.
	th.succeed(user)
	assert.Zero(t, th.wait(now, user))
}
