package front

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// DefaultMaxBodyBytes bounds request bodies. OAuth requests are form posts
// and small JSON documents; a megabyte leaves room for dynamic client
// registration with large metadata.
const DefaultMaxBodyBytes = 1 << 20

// hstsMaxAge is short on purpose: HSTS binds a host name, not a port, and a
// reference server usually runs on localhost, where a long-lived policy would
// force every other local development server to HTTPS too.
const hstsMaxAge = 3600

// Recover answers 500 {"error":"server_error"} when a handler panics and logs
// the panic with the method and path. It is a last-resort net that keeps the
// process alive; handlers must report their own errors.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &responseRecorder{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				// net/http uses this panic to abort a response on purpose.
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.LogAttrs(r.Context(), slog.LevelError, "handler panic",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Any("panic", v),
					slog.String("stack", string(debug.Stack())))
				// Once the status line is out, the client can only be told by
				// a truncated response.
				if !rw.wroteHeader {
					writeJSONError(rw, http.StatusInternalServerError, "server_error")
				}
			}()
			next.ServeHTTP(rw, r)
		})
	}
}

// LimitBody caps each request body at maxBytes (DefaultMaxBodyBytes when not
// positive). A handler reading past the cap gets an *http.MaxBytesError and
// the connection is closed after the response.
func LimitBody(maxBytes int64) func(http.Handler) http.Handler {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// SecurityHeaders sets headers that every page of the trio wants: no MIME
// sniffing, no Referer (authorization responses carry codes in the URL), no
// framing (login and consent pages must not be clickjacked) and HSTS. They
// are set before the handler runs, so a handler can still replace one.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		if !fault.On("tls-hsts-missing") {
			h.Set("Strict-Transport-Security", "max-age="+strconv.Itoa(hstsMaxAge))
		}
		next.ServeHTTP(w, r)
	})
}

// AccessLog logs one line per request with the method, the path, the status,
// the response size and the duration. The query string is left out because
// authorization codes, tokens and state travel in it; headers and bodies are
// left out for the same reason.
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			// Taken before the handler runs, which may rewrite the URL.
			method, path := r.Method, r.URL.Path
			rw := &responseRecorder{ResponseWriter: w}
			next.ServeHTTP(rw, r)
			logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", method),
				slog.String("path", path),
				slog.Int("status", rw.statusCode()),
				slog.Int64("bytes", rw.written),
				slog.Duration("duration", time.Since(start)))
		})
	}
}

// responseRecorder remembers the status and size of a response.
type responseRecorder struct {
	http.ResponseWriter
	wroteHeader bool
	status      int
	written     int64
}

func (rw *responseRecorder) WriteHeader(status int) {
	// 1xx responses are interim; the final status is still to come.
	if !rw.wroteHeader && status >= 200 {
		rw.wroteHeader = true
		rw.status = status
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *responseRecorder) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.wroteHeader = true
		rw.status = http.StatusOK
	}
	n, err := rw.ResponseWriter.Write(p)
	rw.written += int64(n)
	return n, err
}

// Flush keeps streaming responses working for handlers that type-assert
// http.Flusher instead of using http.ResponseController.
func (rw *responseRecorder) Flush() {
	if !rw.wroteHeader {
		rw.wroteHeader = true
		rw.status = http.StatusOK
	}
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rw *responseRecorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

func (rw *responseRecorder) statusCode() int {
	if !rw.wroteHeader {
		// net/http sends 200 for a handler that writes nothing.
		return http.StatusOK
	}
	return rw.status
}

// writeJSONError writes an error object shaped like an OAuth error response
// (RFC 6749 §5.2), so clients of every part of the trio parse one format.
func writeJSONError(w http.ResponseWriter, status int, code string) {
	// A struct of one string cannot fail to marshal.
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{code})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
