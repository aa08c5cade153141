package authserver

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startFrom sends an unauthenticated authorization request straight to the
// handler as if from address, with no cookie: a fresh browser each time.
func (h *harness) startFrom(t testing.TB, address string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, h.url("authorize")+"?"+authParams(webClientID, "").Encode(), nil)
	req.RemoteAddr = address + ":40000"
	rec := serveDirect(h.as, req)
	require.Equalf(t, http.StatusOK, rec.Code, "%s", rec.Body)
}

// pending is how many interactions are waiting.
func pending(h *harness) int {
	h.as.interactions.mu.Lock()
	defer h.as.interactions.mu.Unlock()
	return len(h.as.interactions.m)
}

// TestInteractionFlood is the login denial of service: unauthenticated
// authorization requests from one address must not lock other users out,
// and the pending forms stay bounded.
func TestInteractionFlood(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	page := b.authorize(authParams(webClientID, "")) // a user starts signing in

	for range 10000 {
		h.startFrom(t, "203.0.113.9")
	}
	limits := h.as.cfg.Interactions
	assert.LessOrEqual(t, pending(h), limits.PerAddress+1, "one address holds at most PerAddress forms")

	// The user who was already on the login page, and one who starts now.
	page = b.login(page, "developer", "test")
	page = b.consent(page, "approve")
	assert.NotEmpty(t, b.callback(page).Get("code"))
	assert.NotEmpty(t, h.browser().authorizeCode(authParams(webClientID, ""), "developer", "test").Get("code"))
}

// TestInteractionLimits: many addresses together evict from the busiest,
// and one browser keeps its newest PerBrowser forms.
func TestInteractionLimits(t *testing.T) {
	h := newHarnessWith(t, func(c *Config) {
		c.Interactions = InteractionLimits{PerBrowser: 3, PerAddress: 20, Max: 50}
	}, fastHash)

	t.Run("many addresses", func(t *testing.T) {
		b := h.browser()
		page := b.authorize(authParams(webClientID, ""))
		for i := range 200 {
			h.startFrom(t, fmt.Sprintf("198.51.100.%d", i%10))
		}
		assert.LessOrEqual(t, pending(h), 50)
		page = b.login(page, "developer", "test")
		_, _, ok := form(t, page, "consent-form")
		assert.True(t, ok, "the user's form survived the flood: %s", page.body)
	})
	t.Run("one browser, many tabs", func(t *testing.T) {
		b := h.browser()
		var pages []response
		for range 5 {
			pages = append(pages, b.authorize(authParams(webClientID, "")))
		}
		// The oldest tabs' forms were dropped, the newest still work.
		assert.Equal(t, "invalid_request", errorPage(t, b.login(pages[0], "developer", "test")))
		_, _, ok := form(t, b.login(pages[4], "developer", "test"), "consent-form")
		assert.True(t, ok)
	})
}

// TestBrowserCookieIsMinted is the login CSRF: a browser-binding value an
// attacker chose and planted must not bind forms.
func TestBrowserCookieIsMinted(t *testing.T) {
	h := newHarness(t)
	planted := strings.Repeat("A", 43)
	issuer, err := url.Parse(h.issuer + "/")
	require.NoError(t, err)
	plant := func(b *browser) {
		b.c.Jar.SetCookies(issuer, []*http.Cookie{{Name: browserCookie, Value: planted, Path: IssuerPath + "/"}})
	}

	// The attacker fetches a login form with the planted value...
	attacker := h.browser()
	plant(attacker)
	page := attacker.authorize(authParams(webClientID, ""))
	for _, c := range attacker.c.Jar.Cookies(issuer) {
		if c.Name == browserCookie {
			assert.NotEqual(t, planted, c.Value, "the server replaces a value it did not mint")
		}
	}
	action, fields, ok := form(t, page, "login-form")
	require.True(t, ok)

	// ...and the victim, carrying the same planted value, submits it
	// with the attacker's credentials.
	victim := h.browser()
	plant(victim)
	fields.Set("username", "developer")
	fields.Set("password", "test")
	assert.Equal(t, "invalid_request", errorPage(t, victim.post(action, fields)))

	t.Run("minted values work", func(t *testing.T) {
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		b := h.browser()
		b.c.Jar = jar
		assert.NotEmpty(t, b.authorizeCode(authParams(webClientID, ""), "developer", "test").Get("code"))
	})
}
