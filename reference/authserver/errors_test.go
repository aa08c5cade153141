package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ory/fosite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/reference/store"
)

// failingStorage fails every write the endpoints under test make.
type failingStorage struct {
	*store.Store
	err error
}

func (f failingStorage) CreateAccessTokenSession(context.Context, string, fosite.Requester) error {
	return f.err
}
func (f failingStorage) CreateClient(context.Context, *store.Client) error { return f.err }
func (f failingStorage) CreateLoginSession(context.Context, store.LoginSession) error {
	return f.err
}

// levels records the levels of the log records.
type levels struct {
	mu   sync.Mutex
	seen []slog.Level
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, r.Level)
	return nil
}
func (l *levels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levels) WithGroup(string) slog.Handler      { return l }
func (l *levels) errors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, lv := range l.seen {
		if lv >= slog.LevelError {
			n++
		}
	}
	return n
}

// serverOver builds a second server over the harness's store, with faults.
func (h *harness) serverOver(t *testing.T, st Storage, log *slog.Logger) *Server {
	t.Helper()
	cfg := Config{PublicURL: strings.TrimSuffix(h.issuer, IssuerPath), GlobalSecret: make([]byte, 32), Hooks: WorkshopHooks(h.st), Logger: log}
	as, err := New(cfg, st, h.keys)
	require.NoError(t, err)
	return as
}

// TestStorageErrors: a failing store yields the specs' errors, never
// fosite's "error", and only failures of the server are logged as errors.
func TestStorageErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name         string
		err          error
		status       int
		code         string
		loggedErrors bool
	}{
		{"disk full", fmt.Errorf("store: create: %w", store.ErrUnavailable), http.StatusServiceUnavailable, "temporarily_unavailable", false},
		{"broken", errors.New("store: something broke"), http.StatusInternalServerError, "server_error", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &levels{}
			as := h.serverOver(t, failingStorage{Store: h.st, err: tt.err}, slog.New(log))

			token := httptest.NewRequest(http.MethodPost, h.url("token"), strings.NewReader("grant_type=client_credentials&scope=my%2Fscope"))
			token.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			token.SetBasicAuth(postmanID, postmanSecret)
			register := httptest.NewRequest(http.MethodPost, h.url("register"), strings.NewReader(`{"redirect_uris":["https://rp.test/cb"]}`))
			register.Header.Set("Content-Type", "application/json")
			for name, req := range map[string]*http.Request{"token": token, "register": register} {
				rec := serveDirect(as, req)
				assert.Equalf(t, tt.status, rec.Code, "%s: %s", name, rec.Body)
				assert.Containsf(t, rec.Body.String(), `"error":"`+tt.code+`"`, "%s", name)
			}

			// The login: the user sees the error page, not a 500.
			authz := httptest.NewRequest(http.MethodGet, h.url("authorize")+"?"+authParams(webClientID, "").Encode(), nil)
			rec := serveDirect(as, authz)
			require.Equal(t, http.StatusOK, rec.Code)
			action, fields, ok := form(t, response{status: rec.Code, body: rec.Body.String()}, "login-form")
			require.True(t, ok)
			fields.Set("username", "developer")
			fields.Set("password", "test")
			login := httptest.NewRequest(http.MethodPost, action, strings.NewReader(fields.Encode()))
			login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, c := range rec.Result().Cookies() {
				login.AddCookie(c)
			}
			rec = serveDirect(as, login)
			loc, err := url.Parse(rec.Header().Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, tt.code, loc.Query().Get("error"), "RFC 6749 §4.1.2.1 error to the client")

			assert.Equal(t, tt.loggedErrors, log.errors() > 0)
		})
	}
	t.Run("client hangs up", func(t *testing.T) {
		log := &levels{}
		as := h.serverOver(t, failingStorage{Store: h.st, err: context.Canceled}, slog.New(log))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, h.url("token"), strings.NewReader("grant_type=client_credentials&scope=my%2Fscope"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(postmanID, postmanSecret)
		rec := serveDirect(as, req)
		assert.NotEqual(t, http.StatusInternalServerError, rec.Code, "%s", rec.Body)
		assert.Zero(t, log.errors(), "a client that went away is no server error")
	})
}
