package resserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBearerHeader feeds arbitrary Authorization headers to the protected
// resource: the server must answer every one with a client error, a success
// or the documented 503, and well-formed challenges.
func FuzzBearerHeader(f *testing.F) {
	fx := newFixture(f)
	valid := fx.token(f, nil)
	for _, seed := range []string{
		"",
		"Bearer",
		"Bearer ",
		"bearer " + valid,
		"Bearer " + valid,
		"Bearer " + valid + "x",
		"Bearer  " + valid + " ",
		"Bearer " + valid + ", Bearer " + valid,
		"Bearer a.b.c",
		"Bearer eyJhbGciOiJub25lIn0.e30.",
		"Bearer eyJ9.e30.x",
		"Bearer ====",
		"Bearer " + strings.Repeat("A", maxTokenSize+1),
		"Basic dXNlcjpwYXNz",
		"Bearer \x00\"\\\r\n",
		"DPoP " + valid,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest(http.MethodGet, plainPath, nil)
		req.Header.Set("Authorization", header)
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable:
		default:
			t.Fatalf("status %d for %q", rec.Code, header)
		}
		if c := rec.Header().Get("WWW-Authenticate"); c != "" && !challengeRE.MatchString(c) {
			t.Fatalf("challenge %q for %q", c, header)
		}
	})
}
