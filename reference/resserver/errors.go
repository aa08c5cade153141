package resserver

import (
	"errors"
	"strings"
)

// Error codes of the Bearer challenge (RFC 6750 §3.1).
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// ErrUnavailable marks failures to reach the authorization server (discovery,
// JWKS or introspection). The token may well be valid, so callers should not
// report it as invalid_token.
var ErrUnavailable = errors.New("resserver: authorization server unavailable")

// TokenError is a refusal of the token or of the request carrying it, with
// the RFC 6750 §3.1 error code the challenge reports.
type TokenError struct {
	// Code is CodeInvalidRequest, CodeInvalidToken or CodeInsufficientScope.
	Code string
	// Description is a short text for error_description; it never contains
	// token material.
	Description string
	// Scope is the scope required, set with CodeInsufficientScope.
	Scope string
	// Err is the underlying cause, for logs.
	Err error
}

func (e *TokenError) Error() string {
	s := "resserver: " + e.Code + ": " + e.Description
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *TokenError) Unwrap() error { return e.Err }

func invalidToken(desc string, err error) *TokenError {
	return &TokenError{Code: CodeInvalidToken, Description: desc, Err: err}
}

func invalidRequest(desc string) *TokenError {
	return &TokenError{Code: CodeInvalidRequest, Description: desc}
}

// maxDescription bounds error_description so a challenge stays a short header.
const maxDescription = 200

// sanitizeDescription keeps only the characters RFC 6749 §5.2 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E), so the value can be put
// in a quoted-string (RFC 6750 §3) without escaping. Others become '?'.
func sanitizeDescription(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxDescription {
			break
		}
		if r >= 0x20 && r <= 0x7e && r != '"' && r != '\\' {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}
