package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// errInvalidTarget is RFC 8707 §2's error for an unacceptable resource.
var errInvalidTarget = &fosite.RFC6749Error{
	ErrorField:       "invalid_target",
	DescriptionField: "The requested resource is invalid, unknown, or malformed.",
	CodeField:        http.StatusBadRequest,
}

// errUnsupportedGrantType is returned before fosite sees the request,
// because fosite answers unknown grants with invalid_request.
var errUnsupportedGrantType = fosite.ErrUnsupportedGrantType

// sanitizeDescription keeps only the characters RFC 6749 §5.2 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E).
func sanitizeDescription(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\':
			return '\''
		case r >= 0x20 && r <= 0x7e:
			return r
		default:
			return ' '
		}
	}, s)
}

// writeJSONError writes an RFC 6749 §5.2 style error body.
func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = sanitizeDescription(description)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if status >= 400 && fault.On("error-text-plain") {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errUnknownName is what fosite calls an error it does not recognise; it
// must never reach a client.
const errUnknownName = "error"

// classify turns any error into the one the specs name. A client's mistake
// keeps its fosite error. A failure of the server becomes
// temporarily_unavailable (503) when it passes by itself, a full disk or a
// busy database say, and server_error (500) otherwise. Only genuine server
// failures are logged as errors: a client that hung up is not one.
func (s *Server) classify(r *http.Request, endpoint string, err error) *fosite.RFC6749Error {
	e := fosite.ErrorToRFC6749Error(err)
	gone := r.Context().Err() != nil || errors.Is(err, context.Canceled)
	switch {
	case gone:
		s.log.Info(endpoint+": the client went away", "error", err)
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	case store.Unavailable(err):
		s.log.Warn(endpoint+": storage unavailable", "error", err)
		return fosite.ErrTemporarilyUnavailable.WithHint("The server cannot store this now; retry later.").WithWrap(err)
	case e.ErrorField == errUnknownName || e.CodeField >= 500:
		s.log.Error(endpoint, "error", err, "debug", e.DebugField)
		if e.ErrorField == fosite.ErrTemporarilyUnavailable.ErrorField {
			return e
		}
		return fosite.ErrServerError.WithWrap(err)
	}
	return e
}

// writeRFCError writes a fosite error as JSON, with the description and
// hint but never fosite's debug text.
func writeRFCError(w http.ResponseWriter, err error) {
	e := fosite.ErrorToRFC6749Error(err)
	status := e.CodeField
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSONError(w, status, e.ErrorField, e.GetDescription())
}

func jsonEncoder(w http.ResponseWriter) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}
