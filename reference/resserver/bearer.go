package resserver

import (
	"mime"
	"net/http"
	"strings"
)

// maxFormSize bounds a form body read for the access_token parameter.
const maxFormSize = 64 << 10

// bearerToken extracts the access token from r (RFC 6750 §2). It returns ""
// and no error when the request carries no bearer token at all, which gets
// a challenge without an error code (RFC 6750 §3.1).
//
// Accepted: the Authorization header (§2.1) and, for POST, the form body
// (§2.2). The URI query (§2.3) is refused: RFC 9700 §4.3.2 forbids clients
// to send access tokens there, since URLs leak into logs, history and
// Referer headers, and RFC 6750 §5.3 already advises against it.
func bearerToken(w http.ResponseWriter, r *http.Request) (string, error) {
	var fromHeader []string
	headers := r.Header.Values("Authorization")
	if len(headers) > 1 {
		return "", invalidRequest("more than one Authorization header")
	}
	if len(headers) == 1 {
		// RFC 9110 §11.1: the scheme is case-insensitive and followed by
		// one or more spaces. Other schemes are not ours to judge.
		scheme, cred, _ := strings.Cut(headers[0], " ")
		if strings.EqualFold(scheme, "Bearer") {
			fromHeader = []string{strings.Trim(cred, " \t")}
		}
	}

	fromQuery := r.URL.Query()["access_token"]

	var fromForm []string
	if r.Method == http.MethodPost {
		// RFC 6750 §2.2: only a single-part form-urlencoded body.
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "application/x-www-form-urlencoded" {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
			if err := r.ParseForm(); err != nil {
				return "", invalidRequest("malformed form body")
			}
			fromForm = r.PostForm["access_token"]
		}
	}

	methods := 0
	for _, m := range [][]string{fromHeader, fromQuery, fromForm} {
		if len(m) > 0 {
			methods++
		}
	}
	// RFC 6750 §2: clients MUST NOT use more than one method; §3.1 makes
	// that, and a repeated parameter, an invalid_request.
	switch {
	case methods == 0:
		return "", nil
	case methods > 1:
		return "", invalidRequest("access token sent by more than one method")
	case len(fromQuery) > 0:
		return "", invalidRequest("access_token in the URI query is not accepted; use the Authorization header")
	case len(fromForm) > 1:
		return "", invalidRequest("access_token parameter repeated")
	}
	token := fromHeader
	if token == nil {
		token = fromForm
	}
	if token[0] == "" {
		return "", invalidRequest("empty access token")
	}
	return token[0], nil
}
