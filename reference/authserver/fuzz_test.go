package authserver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzTokenEndpoint posts arbitrary form bodies, with and without the
// Postman client's credentials: the token endpoint must answer every one
// without a 5xx or a panic.
func FuzzTokenEndpoint(f *testing.F) {
	seeds := []string{
		"grant_type=client_credentials&scope=my%2Fscope",
		"grant_type=client_credentials&scope=my%2Fscope&resource=https%3A%2F%2Fx.test",
		"grant_type=authorization_code&code=ory_ac_a.b&redirect_uri=https%3A%2F%2Fclient.test%2Fcb&code_verifier=x",
		"grant_type=refresh_token&refresh_token=ory_rt_a.b&scope=openid",
		"grant_type=password&username=developer&password=test",
		"grant_type=client_credentials&client_id=test-post&client_secret=test-post-secret",
		"grant_type=client_credentials&client_id=test-spa",
		"grant_type=&&&=&%zz",
		"grant_type=client_credentials&grant_type=refresh_token",
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c",
	}
	for _, s := range seeds {
		f.Add(s, true)
		f.Add(s, false)
	}
	h := newHarness(f)
	handler := limitBody(h.as)
	f.Fuzz(func(t *testing.T, body string, authenticate bool) {
		req := httptest.NewRequest(http.MethodPost, h.url("token"), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authenticate {
			req.SetBasicAuth(postmanID, postmanSecret)
		}
		rec := serveDirect(handler, req)
		if rec.Code >= 500 {
			t.Fatalf("token endpoint answered %d to %q: %s", rec.Code, body, rec.Body)
		}
	})
}

// FuzzAuthorizeQuery sends arbitrary query strings to the authorization
// endpoint, from a fresh browser and from one with a login session.
func FuzzAuthorizeQuery(f *testing.F) {
	valid := authParams(webClientID, "")
	seeds := []string{
		valid.Encode(),
		with(valid, "prompt", "none").Encode(),
		with(valid, "prompt", "login", "max_age", "0").Encode(),
		with(valid, "response_mode", "form_post").Encode(),
		with(valid, "response_mode", "fragment", "response_type", "code id_token").Encode(),
		with(valid, "code_challenge_method", "plain").Encode(),
		with(valid, "resource", "https://x.test").Encode(),
		with(valid, "redirect_uri", "https://evil.test/").Encode(),
		authParams(publicClientID, "openid").Encode(),
		"client_id=test-web&client_id=test-web",
		"%zz=%&;;==",
		"request=a.b.c&client_id=test-web",
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	h := newHarness(f)
	// A login session cookie for the "logged in" half of the inputs.
	b := h.browser()
	b.authorizeCode(authParams(webClientID, ""), "developer", "test")
	issuerURL, err := url.Parse(h.issuer + "/")
	if err != nil {
		f.Fatal(err)
	}
	cookies := b.c.Jar.Cookies(issuerURL)
	handler := limitBody(h.as)
	f.Fuzz(func(t *testing.T, query string, loggedIn bool) {
		req := httptest.NewRequest(http.MethodGet, h.url("authorize"), nil)
		req.URL.RawQuery = query
		if loggedIn {
			for _, c := range cookies {
				req.AddCookie(c)
			}
		}
		rec := serveDirect(handler, req)
		if rec.Code >= 500 {
			t.Fatalf("authorization endpoint answered %d to %q: %s", rec.Code, query, rec.Body)
		}
	})
}
