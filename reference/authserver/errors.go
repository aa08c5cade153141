package authserver

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/ory/fosite"
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
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
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
