package issuer

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issuerServer serves discovery for an issuer with a path (/realm/) and,
// optionally, the RFC 8414 document at the path-inserted location.
func issuerServer(t *testing.T, doc func(issuer string) string, withRFC8414 bool) (*httptest.Server, *[]string) {
	t.Helper()
	var paths []string
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		switch {
		case r.URL.Path == "/realm/.well-known/openid-configuration":
		case withRFC8414 && r.URL.Path == "/.well-known/oauth-authorization-server/realm":
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, doc(ts.URL+"/realm/"))
	}))
	t.Cleanup(ts.Close)
	return ts, &paths
}

const fullDoc = `{
  "issuer": %q,
  "authorization_endpoint": "https://idp/auth", "token_endpoint": "https://idp/token",
  "userinfo_endpoint": "https://idp/me", "jwks_uri": "https://idp/jwks",
  "introspection_endpoint": "https://idp/introspect",
  "scopes_supported": ["openid", "profile", "email", "offline_access"],
  "response_types_supported": ["code", "id_token"],
  "grant_types_supported": ["authorization_code", "refresh_token"],
  "code_challenge_methods_supported": ["S256"],
  "id_token_signing_alg_values_supported": ["RS256"],
  "claims_supported": ["sub", "name"],
  "authorization_response_iss_parameter_supported": true,
  "x_vendor_extension": {"a": 1}
}`

func TestDiscoverTrailingSlashIssuer(t *testing.T) {
	ts, paths := issuerServer(t, func(iss string) string { return fmt.Sprintf(fullDoc, iss) }, true)
	issuer := ts.URL + "/realm/"
	md, err := Discover(context.Background(), ts.Client(), issuer)
	require.NoError(t, err)

	assert.Equal(t, ts.URL+"/realm/.well-known/openid-configuration", md.URL, "no double slash")
	assert.Contains(t, *paths, "/realm/.well-known/openid-configuration")
	assert.Equal(t, issuer, md.ConfiguredIssuer)
	assert.True(t, md.IssuerMatches(), "the trailing slash is kept for the comparison")
	assert.Equal(t, "https://idp/token", md.TokenEndpoint)
	assert.Equal(t, []string{"S256"}, md.CodeChallengeMethodsSupported)
	assert.True(t, md.AuthorizationResponseIssParameterSupported)
	assert.Contains(t, string(md.Raw), "x_vendor_extension")
	assert.NotNil(t, md.Members["x_vendor_extension"])
	assert.Equal(t, "application/json", md.ContentType)

	require.NotNil(t, md.OAuthServer, "RFC 8414 document at the path-inserted URL")
	assert.Equal(t, ts.URL+"/.well-known/oauth-authorization-server/realm", md.OAuthServerURL)
}

func TestDiscoverIssuerMismatchAndNoRFC8414(t *testing.T) {
	ts, _ := issuerServer(t, func(iss string) string {
		return fmt.Sprintf(fullDoc, strings.TrimSuffix(iss, "/"))
	}, false)
	md, err := Discover(context.Background(), ts.Client(), ts.URL+"/realm/")
	require.NoError(t, err)
	assert.False(t, md.IssuerMatches(), "a trailing slash difference is a mismatch")
	assert.Nil(t, md.OAuthServer)
	require.Error(t, md.OAuthServerErr)
	assert.Contains(t, md.OAuthServerErr.Error(), "404")
	caps := md.Capabilities()
	assert.False(t, caps.Has("rfc8414"))
	assert.Contains(t, caps.WhyMissing("rfc8414"), "404")
}

func TestDiscoverErrors(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/missing"):
			http.NotFound(w, r)
		case strings.HasPrefix(r.URL.Path, "/html"):
			io.WriteString(w, "<html>hello</html>")
		case strings.HasPrefix(r.URL.Path, "/slow"):
			time.Sleep(300 * time.Millisecond)
		}
	}))
	defer ts.Close()

	_, err := Discover(context.Background(), ts.Client(), ts.URL+"/missing")
	require.ErrorContains(t, err, "status 404, want 200")
	_, err = Discover(context.Background(), ts.Client(), ts.URL+"/html")
	require.ErrorContains(t, err, "not a JSON metadata object")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Discover(ctx, ts.Client(), ts.URL+"/slow")
	require.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
}

func TestOAuthServerMetadataURL(t *testing.T) {
	for issuer, want := range map[string]string{
		"https://idp.example.org":                 "https://idp.example.org/.well-known/oauth-authorization-server",
		"https://idp.example.org/":                "https://idp.example.org/.well-known/oauth-authorization-server",
		"https://idp.example.org/irisauth/oauth2": "https://idp.example.org/.well-known/oauth-authorization-server/irisauth/oauth2",
	} {
		got, err := OAuthServerMetadataURL(issuer)
		require.NoError(t, err)
		assert.Equal(t, want, got, issuer)
	}
	assert.Equal(t, "https://idp.example.org/.well-known/openid-configuration", OpenIDConfigurationURL("https://idp.example.org/"))
}

func TestCapabilities(t *testing.T) {
	ts, _ := issuerServer(t, func(iss string) string { return fmt.Sprintf(fullDoc, iss) }, false)
	md, err := Discover(context.Background(), ts.Client(), ts.URL+"/realm/")
	require.NoError(t, err)
	caps := md.Capabilities()

	for _, name := range []string{"discovery", "openid", "authorization_code", "refresh_token", "pkce_s256", "introspection",
		"userinfo", "iss_parameter", "offline_access", "scope:profile", "scope:email", "prompt_none", "response_type:code", "auth_method:client_secret_basic"} {
		assert.True(t, caps.Has(name), name)
		assert.Empty(t, caps.WhyMissing(name), name)
	}
	reasons := map[string]string{
		"client_credentials":      "the issuer's discovery document does not list client_credentials in grant_types_supported (it lists authorization_code, refresh_token)",
		"pkce_plain":              "does not list plain in code_challenge_methods_supported (it lists S256)",
		"revocation":              "has no revocation_endpoint",
		"registration":            "has no registration_endpoint",
		"end_session":             "has no end_session_endpoint",
		"jwt_access_tokens":       "decided by looking at a token",
		"resource_server":         "no resource_server",
		"browser":                 "Chromium is not installed",
		"scope:address":           "does not list address in scopes_supported",
		"response_mode:form_post": "does not list form_post in response_modes_supported",
		"made_up":                 `"made_up" is not a capability the suite knows`,
	}
	for name, why := range reasons {
		assert.False(t, caps.Has(name), name)
		assert.Contains(t, caps.WhyMissing(name), why, name)
	}

	// Response modes default to query and fragment when absent.
	assert.True(t, caps.Has("response_mode:query"))

	// Observations and the environment are set from outside.
	caps.Set("jwt_access_tokens", true, "")
	caps.Set("browser", false, "")
	assert.True(t, caps.Has("jwt_access_tokens"))
	assert.Contains(t, caps.WhyMissing("browser"), "Chromium")
	caps.Set("docker", false, "DOCKER_HOST points at nothing")
	assert.Equal(t, "DOCKER_HOST points at nothing", caps.WhyMissing("docker"))

	// Configuration: clients, users, resource server, custom scopes.
	cfg := &Config{Clients: map[Role]*Client{RoleWeb: {ID: "w", Scopes: Scopes{"openid", "api:read"}}}, ResourceServer: &ResourceServer{URL: "https://rs"}}
	caps.ApplyConfig(cfg)
	assert.True(t, caps.Has("client:web"))
	assert.False(t, caps.Has("client:service"))
	assert.Contains(t, caps.WhyMissing("client:service"), "no service client (clients.service)")
	assert.True(t, caps.Has("resource_server"))
	assert.True(t, caps.Has("scope:api:read"), "a configured client's scope counts")
	assert.False(t, caps.Has("user:invalid"))
	assert.Contains(t, caps.WhyMissing("dynamic_registration"), "no registration_endpoint")

	names := caps.Names()
	assert.Contains(t, names, "scope:openid")
	assert.Contains(t, names, "jwt_access_tokens")
	assert.NotContains(t, names, "browser")

	na := caps.NotApplicable([]string{"@RFC6749-4.4", "@needs:client_credentials", "@needs:scope:profile", "@needs:revocation"})
	require.Len(t, na, 2)
	assert.True(t, strings.HasPrefix(na[0], "client_credentials: "))
	assert.True(t, strings.HasPrefix(na[1], "revocation: "))

	assert.Equal(t, "~@needs:client_credentials && ~@needs:revocation",
		caps.ExcludeExpression([]string{"@needs:revocation", "@needs:client_credentials", "@needs:pkce_s256", "@needs:revocation", "@MUST"}))
	assert.True(t, KnownCapability("scope:anything"))
	assert.False(t, KnownCapability("scope:"))
	assert.False(t, KnownCapability("clientcredentials"))
}

func TestCapabilitiesWithoutGrantTypes(t *testing.T) {
	md := &Metadata{AuthorizationEndpoint: "a", TokenEndpoint: "t", ResponseTypesSupported: []string{"code"}, Members: map[string]any{}}
	caps := md.Capabilities()
	assert.True(t, caps.Has("authorization_code"), "RFC 8414 default grant types include authorization_code")
	assert.Contains(t, caps.WhyMissing("client_credentials"), "has no grant_types_supported, whose default (authorization_code, implicit) lacks client_credentials")
	assert.Contains(t, caps.WhyMissing("prompt_none"), "does not look like an OpenID provider")

	broken := NoDiscovery(errors.New("connection refused"))
	assert.Contains(t, broken.WhyMissing("authorization_code"), "connection refused")
	assert.False(t, broken.Has("discovery"))
}

func TestApplyOverrides(t *testing.T) {
	md := &Metadata{Members: map[string]any{}}
	require.NoError(t, md.ApplyOverrides(map[string]string{"introspection_endpoint": "https://admin/introspect"}))
	assert.True(t, md.Capabilities().Has("introspection"))
	assert.True(t, md.Overridden("introspection_endpoint"))
	assert.Equal(t, "https://admin/introspect", md.Endpoint("introspection_endpoint"))
	require.Error(t, md.ApplyOverrides(map[string]string{"nonsense_endpoint": "x"}))
}

func TestHTTPClientTrustsCAFile(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	// The untrusted attempt below makes the server log a handshake error.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	defer ts.Close()
	dir := t.TempDir()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	require.NoError(t, os.WriteFile(dir+"/ca.pem", caPEM, 0o600))

	cfg, err := ParseConfig([]byte("issuer: "+ts.URL+"\ntls: {ca_file: ca.pem}"), dir)
	require.NoError(t, err)
	hc, err := cfg.HTTPClient()
	require.NoError(t, err)
	resp, err := hc.Get(ts.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode, "redirects are not followed")

	cfg, err = ParseConfig([]byte("issuer: "+ts.URL), dir)
	require.NoError(t, err)
	hc, err = cfg.HTTPClient()
	require.NoError(t, err)
	_, err = hc.Get(ts.URL)
	var certErr *tls.CertificateVerificationError
	require.ErrorAs(t, err, &certErr, "untrusted without the CA file")

	cfg.TLS.Insecure = true
	hc, err = cfg.HTTPClient()
	require.NoError(t, err)
	resp, err = hc.Get(ts.URL)
	require.NoError(t, err)
	resp.Body.Close()
}

func TestRegister(t *testing.T) {
	var gotAuth string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		body, _ := io.ReadAll(r.Body)
		assert.Contains(t, string(body), `"redirect_uris":["http://127.0.0.1:1/cb"]`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"client_id":"dyn-1","client_secret":"s3","redirect_uris":["http://127.0.0.1:1/cb"]}`)
	}))
	defer ts.Close()
	md := &Metadata{RegistrationEndpoint: ts.URL + "/register"}
	cl, err := Register(context.Background(), ts.Client(), md, Registration{Enabled: true, InitialAccessToken: "iat"},
		RegistrationFor(RoleWeb, "http://127.0.0.1:1/cb", Scopes{"openid"}))
	require.NoError(t, err)
	assert.Equal(t, "Bearer iat", gotAuth)
	assert.Equal(t, &Client{ID: "dyn-1", Secret: "s3", AuthMethod: AuthClientSecretBasic, RedirectURI: "http://127.0.0.1:1/cb", Scopes: Scopes{"openid"}}, cl)

	_, err = Register(context.Background(), ts.Client(), md, Registration{}, ClientRegistration{})
	require.ErrorContains(t, err, "registration.enabled is false")
	_, err = Register(context.Background(), ts.Client(), &Metadata{}, Registration{Enabled: true}, ClientRegistration{})
	require.ErrorContains(t, err, "no registration_endpoint")
}

// Every @needs: tag the features use must be in the capability table, so a
// typo cannot silently mark a scenario not applicable.
func TestFeatureNeedsTagsAreKnown(t *testing.T) {
	files, _ := filepath.Glob("../../features/*.feature")
	if len(files) == 0 {
		t.Skip("no feature files")
	}
	tag := regexp.MustCompile(`@needs:[A-Za-z0-9_:.-]+`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range tag.FindAllString(string(data), -1) {
			assert.True(t, KnownCapability(strings.TrimPrefix(m, NeedsTagPrefix)), "%s: %s is not in the capability table", f, m)
		}
	}
}
