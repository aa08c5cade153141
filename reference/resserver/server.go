package resserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// Message is the text of the workshop's resource server (res.Server).
const Message = "OAuth 2.0 access token used to authorize resource server (RFC 6749). Access token validated using introspection endpoint (RFC 7662)"

// unauthenticatedUser is the IRIS account the plain endpoint runs as.
const unauthenticatedUser = "UnknownUser"

// delegatedUserPrefix forms the delegated account name, as ZAUTHENTICATE does.
const delegatedUserPrefix = "OAuth2"

// verifyTimeout bounds the calls to the authorization server per request,
// whatever timeout the configured HTTP client has.
const verifyTimeout = 15 * time.Second

// Allowed methods. POST exists only for the RFC 6750 §2.2 form-body method;
// browsers send the header, so CORS allows GET alone.
const (
	allowMethods     = "GET, POST, OPTIONS"
	corsAllowMethods = "GET, OPTIONS"
)

// Server is the protected API: an http.Handler serving
// <prefix>/protected-resources/ and <prefix>/protected-resources-delegated/.
type Server struct {
	cfg      Config
	verifier *Verifier
	origins  map[string]bool
	roles    string
}

// New returns a Server; it contacts the issuer only on first use.
func New(cfg Config) (*Server, error) {
	v, err := NewVerifier(cfg)
	if err != nil {
		return nil, err
	}
	origins := make(map[string]bool, len(v.cfg.AllowedOrigins))
	for _, o := range v.cfg.AllowedOrigins {
		// "null" is the origin of sandboxed and file documents, which any
		// page can produce; it is never an identity worth trusting.
		if o == "" || o == "null" || o == "*" {
			continue
		}
		origins[o] = true
	}
	return &Server{
		cfg:      v.cfg,
		verifier: v,
		origins:  origins,
		// IRIS reports $roles as a comma-separated list.
		roles: strings.Join(v.cfg.DelegatedRoles, ","),
	}, nil
}

// Verifier returns the token verifier the server uses.
func (s *Server) Verifier() *Verifier { return s.verifier }

// resourceResponse is the workshop's success body (iris-workshop §6.2), keys
// in its order, plus client_id and sub.
type resourceResponse struct {
	Message       string `json:"message"`
	TokenScope    string `json:"tokenScope"`
	TokenUsername string `json:"tokenUsername"`
	IrisUsername  string `json:"irisUsername"`
	IrisRoles     string `json:"irisRoles"`
	ClientID      string `json:"client_id"`
	Sub           string `json:"sub"`
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, s.cfg.PathPrefix)
	var delegated bool
	switch strings.TrimSuffix(rel, "/") {
	case "/protected-resources":
	case "/protected-resources-delegated":
		delegated = true
	default:
		ok = false
	}
	h := w.Header()
	// Responses depend on the bearer token and on Origin: caches must not
	// share them (RFC 9111 §5.2.2.5, Fetch "CORS protocol and HTTP caches").
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Origin")
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return
	}

	origin := r.Header.Get("Origin")
	corsAllowed := origin != "" && len(r.Header.Values("Origin")) == 1 && s.origins[origin]

	switch r.Method {
	case http.MethodOptions:
		// Preflight needs no token (the workshop's ZAUTHENTICATE lets
		// OPTIONS through for the same reason).
		h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
		if corsAllowed && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", "Authorization")
			h.Set("Access-Control-Max-Age", "600")
		}
		h.Set("Allow", allowMethods)
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet, http.MethodPost:
	default:
		h.Set("Allow", allowMethods)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
		return
	}
	if corsAllowed {
		// Credentials are not allowed: the token travels in a header the
		// page sets itself, never in a cookie (iris-workshop §9 item 4).
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	}

	raw, err := bearerToken(w, r)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if raw == "" {
		// RFC 6750 §3.1: a request without authentication gets a bare
		// challenge, no error code and no error body.
		te := (*TokenError)(nil)
		if fault.On("rs-challenge-error-without-token") {
			te = invalidToken("no access token", nil)
		}
		h.Set("WWW-Authenticate", challenge(s.cfg.Realm, te))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), verifyTimeout)
	defer cancel()
	info, err := s.verifier.VerifyAccessToken(ctx, raw)
	if err != nil {
		s.refuse(w, r, err)
		return
	}

	body := resourceResponse{
		Message:       Message,
		TokenScope:    info.Scope,
		TokenUsername: info.Username,
		IrisUsername:  unauthenticatedUser,
		ClientID:      info.ClientID,
		Sub:           info.Subject,
	}
	if delegated {
		body.IrisUsername = delegatedUserPrefix + info.Subject
		body.IrisRoles = s.roles
	}
	writeJSON(w, http.StatusOK, body)
}

// refuse turns a bearerToken or VerifyAccessToken error into the response.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var te *TokenError
	if errors.As(err, &te) {
		if te.Code == CodeInvalidToken && fault.On(FaultStatus400) {
			te = &TokenError{Code: CodeInvalidRequest, Description: te.Description}
		}
		status := http.StatusUnauthorized
		switch te.Code {
		case CodeInvalidRequest:
			status = http.StatusBadRequest
		case CodeInsufficientScope:
			status = http.StatusForbidden
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "access token refused",
			slog.String("path", r.URL.Path), slog.String("error", te.Code), slog.Any("reason", err))
		if !fault.On(FaultNoChallenge) {
			w.Header().Set("WWW-Authenticate", challenge(s.cfg.Realm, te))
		}
		writeJSON(w, status, map[string]string{
			"error":             te.Code,
			"error_description": sanitizeDescription(te.Description),
		})
		return
	}
	// The token could not be checked because the authorization server is
	// unreachable or answered nonsense. RFC 6750 has no code for this:
	// invalid_token (401) would make clients throw away a token that may be
	// valid, and 500 would blame this server. 503 with RFC 6749's
	// temporarily_unavailable code says "retry later", which is the truth.
	s.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "cannot validate access token",
		slog.String("path", r.URL.Path), slog.Any("reason", err))
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{
		"error":             "temporarily_unavailable",
		"error_description": "the authorization server cannot be reached; retry later",
	})
}

// challenge builds the WWW-Authenticate value (RFC 6750 §3). The realm is
// sanitised like a description so that it fits a quoted-string unescaped.
func challenge(realm string, te *TokenError) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="`)
	b.WriteString(sanitizeDescription(realm))
	b.WriteByte('"')
	if te == nil {
		return b.String()
	}
	b.WriteString(`, error="`)
	b.WriteString(te.Code)
	b.WriteString(`", error_description="`)
	b.WriteString(sanitizeDescription(te.Description))
	b.WriteByte('"')
	if te.Scope != "" {
		b.WriteString(`, scope="`)
		b.WriteString(te.Scope)
		b.WriteByte('"')
	}
	return b.String()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only fixed shapes of strings are written; this cannot happen.
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
