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

// FuzzInteractionForms posts arbitrary bodies to the login and consent
// form handlers, with and without the browser cookie of a pending
// interaction whose id and CSRF token the seeds carry: no 5xx, no panic,
// and only the real form with the right password may log in.
func FuzzInteractionForms(f *testing.F) {
	h := newHarness(f)
	b := h.browser()
	page := b.authorize(authParams(webClientID, ""))
	_, fields, ok := form(f, page, "login-form")
	if !ok {
		f.Fatal("no login form")
	}
	issuerURL, err := url.Parse(h.issuer + "/")
	if err != nil {
		f.Fatal(err)
	}
	cookies := b.c.Jar.Cookies(issuerURL)
	valid := with(fields, "username", "developer", "password", "test").Encode()
	for _, s := range []string{
		valid,
		with(fields, "username", "developer", "password", "wrong").Encode(),
		with(fields, "csrf_token", "x", "username", "developer", "password", "test").Encode(),
		with(fields, "decision", "approve").Encode(),
		with(fields, "decision", "deny").Encode(),
		"interaction=&csrf_token=",
		"interaction=" + strings.Repeat("A", 10000),
		"%zz=%&;;==&username=%00",
		"username=a&username=b&password=x",
	} {
		for _, endpoint := range []string{"authorize/login", "authorize/consent"} {
			f.Add(endpoint == "authorize/login", s, true)
			f.Add(endpoint == "authorize/login", s, false)
		}
	}
	handler := limitBody(h.as)
	f.Fuzz(func(t *testing.T, login bool, body string, withCookie bool) {
		endpoint := "authorize/consent"
		if login {
			endpoint = "authorize/login"
		}
		req := httptest.NewRequest(http.MethodPost, h.url(endpoint), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if withCookie {
			for _, c := range cookies {
				req.AddCookie(c)
			}
		}
		rec := serveDirect(handler, req)
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d to %q: %s", endpoint, rec.Code, body, rec.Body)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == loginCookie && c.Value != "" && (!withCookie || body != valid) {
				t.Fatalf("%s logged a user in from %q (cookie %v)", endpoint, body, withCookie)
			}
		}
	})
}

// FuzzLogout sends arbitrary logout requests from a signed-in browser: no
// 5xx, no panic, and no redirect without a valid id_token_hint or a
// confirmed form, and then only to a registered URI.
func FuzzLogout(f *testing.F) {
	h := newHarness(f)
	b := h.browser()
	cb := b.authorizeCode(authParams(webClientID, "openid"), "developer", "test")
	r := h.exchange(cb.Get("code"), basic(webClientID, webSecret))
	idToken, _ := r.json(f)["id_token"].(string)
	if idToken == "" {
		f.Fatal("no ID token")
	}
	issuerURL, err := url.Parse(h.issuer + "/")
	if err != nil {
		f.Fatal(err)
	}
	cookies := b.c.Jar.Cookies(issuerURL)
	for _, s := range []string{
		"",
		url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {testLogoutRedirect}, "state": {"s"}}.Encode(),
		url.Values{"client_id": {webClientID}, "post_logout_redirect_uri": {testLogoutRedirect}}.Encode(),
		url.Values{"client_id": {webClientID}, "post_logout_redirect_uri": {"https://evil.example/"}, "confirm": {"yes"}}.Encode(),
		url.Values{"id_token_hint": {idToken + "x"}}.Encode(),
		url.Values{"id_token_hint": {"a.b.c"}, "confirm": {"yes"}, "csrf_token": {"x"}}.Encode(),
		"id_token_hint=%zz&&state=%00",
		"post_logout_redirect_uri=" + strings.Repeat("/", 5000),
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	handler := limitBody(h.as)
	f.Fuzz(func(t *testing.T, params string, post bool) {
		var req *http.Request
		if post {
			req = httptest.NewRequest(http.MethodPost, h.url("logout"), strings.NewReader(params))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(http.MethodGet, h.url("logout"), nil)
			req.URL.RawQuery = params
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := serveDirect(handler, req)
		if rec.Code >= 500 {
			t.Fatalf("logout answered %d to %q: %s", rec.Code, params, rec.Body)
		}
		loc := rec.Header().Get("Location")
		if loc == "" {
			return
		}
		if !strings.HasPrefix(loc, testLogoutRedirect) {
			t.Fatalf("logout redirected to %q on %q", loc, params)
		}
		if !strings.Contains(params, idToken) {
			t.Fatalf("logout redirected without the hint on %q", params)
		}
	})
}
