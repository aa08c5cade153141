package authserver

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// maxBody is the request body limit the front puts before the server.
const maxBody = 64 << 10

// limitBody wraps h the way a deployment should: bodies over maxBody fail
// to read instead of filling memory.
func limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		h.ServeHTTP(w, r)
	})
}

// serveDirect runs one request through the handler in this goroutine, so a
// panic fails the test instead of being swallowed by net/http.
func serveDirect(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type hostileRequest struct {
	name, method, endpoint, contentType, authorization, body string
}

func hostileRequests(h *harness) []hostileRequest {
	form := "application/x-www-form-urlencoded"
	huge := strings.Repeat("A", 1<<20)
	dots := strings.Repeat(".", 100000)
	junk := string([]byte{0x00, 0xff, 0xfe, '%', 'z', 'z', '&', '=', '=', 0x80, '\n', '\r'})
	basicJunk := "Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon"))
	cc := "grant_type=client_credentials&scope=my%2Fscope"
	pm := "Basic " + base64.StdEncoding.EncodeToString([]byte(postmanID+":"+postmanSecret))
	var reqs []hostileRequest
	add := func(name, method, endpoint, ct, authz, body string) {
		reqs = append(reqs, hostileRequest{name, method, endpoint, ct, authz, body})
	}

	for _, ep := range []string{"token", "introspection", "revocation", "userinfo"} {
		add(ep+" oversize body", "POST", ep, form, pm, "token="+huge)
		add(ep+" binary junk", "POST", ep, form, pm, junk)
		add(ep+" bad percent escapes", "POST", ep, form, pm, "token=%zz%&grant_type=%")
		add(ep+" repeated parameters", "POST", ep, form, pm, strings.Repeat("token=a&", 1000))
		add(ep+" many parameters", "POST", ep, form, pm, strings.Repeat("a=b&", 10000))
		add(ep+" token of dots", "POST", ep, form, pm, "token="+dots+"&access_token="+dots)
		add(ep+" content type junk", "POST", ep, "application/x-www-form-urlencoded; charset=\x00", pm, cc)
		add(ep+" multipart", "POST", ep, "multipart/form-data; boundary=zz", pm, "--zz\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nx\r\n--zz--")
		add(ep+" basic without colon", "POST", ep, form, basicJunk, cc+"&token=x")
		add(ep+" basic not base64", "POST", ep, form, "Basic !!!", cc+"&token=x")
		add(ep+" basic bad escapes", "POST", ep, form, "Basic "+base64.StdEncoding.EncodeToString([]byte("%zz:%zz")), cc+"&token=x")
		add(ep+" scheme alone", "POST", ep, form, "Basic", cc+"&token=x")
		add(ep+" bearer of dots", "POST", ep, form, "Bearer "+dots, "token=x")
		add(ep+" huge header", "POST", ep, form, "Bearer "+strings.Repeat("x", 60000), "token=x")
		add(ep+" JSON", "POST", ep, "application/json", pm, `{"token":"x"}`)
		add(ep+" DELETE", "DELETE", ep, "", "", "")
	}
	for _, grant := range []string{
		"grant_type=authorization_code&code=" + dots,
		"grant_type=authorization_code&code=ory_ac_&redirect_uri=" + url.QueryEscape(junk),
		"grant_type=authorization_code&code=ory_ac_a.b&code_verifier=" + strings.Repeat("~", 200),
		"grant_type=refresh_token&refresh_token=" + dots,
		"grant_type=refresh_token&refresh_token=ory_rt_&scope=" + strings.Repeat("x ", 5000),
		"grant_type=client_credentials&scope=" + strings.Repeat("my/scope ", 5000),
		"grant_type=client_credentials&resource=" + strings.Repeat("https://a/&resource=", 500),
		"grant_type=client_credentials&resource=%00&audience=%00",
		"grant_type=client_credentials&resource=" + url.QueryEscape("http://[::1"),
		"grant_type=" + url.QueryEscape(junk),
		"grant_type=client_credentials&client_id=" + postmanID + "&client_secret=x",
		"grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + dots,
	} {
		add("token "+grant[:min(len(grant), 60)], "POST", "token", form, pm, grant)
	}

	authorize := authParams(webClientID, "")
	for name, q := range map[string]string{
		"huge state":         with(authorize, "state", strings.Repeat("s", 60000)).Encode(),
		"junk everywhere":    "client_id=" + url.QueryEscape(junk) + "&redirect_uri=" + url.QueryEscape(junk) + "&scope=" + url.QueryEscape(junk),
		"bad escapes":        "client_id=%zz&redirect_uri=%",
		"repeated":           strings.Repeat("client_id=test-web&", 100),
		"negative max_age":   with(authorize, "max_age", "-1").Encode(),
		"huge max_age":       with(authorize, "max_age", "99999999999999999999999").Encode(),
		"prompt junk":        with(authorize, "prompt", junk).Encode(),
		"request object":     with(authorize, "request", dots).Encode(),
		"request_uri":        with(authorize, "request_uri", "https://evil.test/req").Encode(),
		"claims junk":        with(authorize, "claims", "{{{").Encode(),
		"response_mode junk": with(authorize, "response_mode", "jwt").Encode(),
		"id_token_hint dots": with(authorize, "id_token_hint", dots).Encode(),
		"resource junk":      with(authorize, "resource", "http://[::1").Encode(),
		"challenge huge":     with(authorize, "code_challenge", strings.Repeat("a", 60000)).Encode(),
	} {
		add("authorize "+name, "GET", "authorize?"+q, "", "", "")
		add("authorize POST "+name, "POST", "authorize", form, "", q)
	}
	for _, ep := range []string{"authorize/login", "authorize/consent"} {
		add(ep+" junk", "POST", ep, form, "", junk)
		add(ep+" empty", "POST", ep, form, "", "")
		add(ep+" oversize", "POST", ep, form, "", "interaction="+huge)
		add(ep+" forged", "POST", ep, form, "", "interaction=x&csrf_token=y&username=developer&password=test&decision=approve")
	}
	add("logout hint of dots", "GET", "logout?id_token_hint="+dots, "", "", "")
	add("logout hint header only", "GET", "logout?id_token_hint="+base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))+".e30.", "", "", "")
	add("logout junk", "POST", "logout", form, "", junk)
	add("logout redirect junk", "GET", "logout?client_id="+webClientID+"&post_logout_redirect_uri="+url.QueryEscape(junk), "", "", "")
	add("register huge", "POST", "register", "application/json", "", `{"redirect_uris":["`+huge+`"]}`)
	add("register nested", "POST", "register", "application/json", "", strings.Repeat("[", 100000))
	add("register null", "POST", "register", "application/json", "", "null")
	add("register binary", "POST", "register", "application/json", "", junk)
	add("register many URIs", "POST", "register", "application/json", "", `{"redirect_uris":[`+strings.Repeat(`"https://a/",`, 3000)+`"https://a/"]}`)
	add("unknown endpoint", "GET", "../../etc/passwd", "", "", "")
	add("jwks POST", "POST", "jwks", form, "", "x=y")
	return reqs
}

// TestHostileInput sends malformed, oversize and repeated input to every
// endpoint: none may answer with a 5xx or panic.
func TestHostileInput(t *testing.T) {
	h := newHarness(t)
	handler := limitBody(h.as)
	for _, hr := range hostileRequests(h) {
		t.Run(hr.name, func(t *testing.T) {
			req := httptest.NewRequest(hr.method, h.url(""), strings.NewReader(hr.body))
			u, err := url.Parse(h.url(hr.endpoint))
			if err == nil {
				req.URL = u
				req.RequestURI = u.RequestURI()
			}
			if hr.contentType != "" {
				req.Header.Set("Content-Type", hr.contentType)
			}
			if hr.authorization != "" {
				req.Header.Set("Authorization", hr.authorization)
			}
			rec := serveDirect(handler, req)
			assert.Less(t, rec.Code, 500, rec.Body.String())
		})
	}
}

// TestOversizeBody checks the answer to a body over the limit: a clean 400.
func TestOversizeBody(t *testing.T) {
	h := newHarness(t)
	handler := limitBody(h.as)
	body := "grant_type=client_credentials&scope=" + strings.Repeat("x", 2*maxBody)
	req := httptest.NewRequest(http.MethodPost, h.url("token"), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(postmanID, postmanSecret)
	rec := serveDirect(handler, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "invalid_request")
}
