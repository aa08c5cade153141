package issuer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func setExampleEnv(t *testing.T) {
	for _, v := range []string{"OAUTHTRIO_WEB_SECRET", "OAUTHTRIO_SERVICE_SECRET", "OAUTHTRIO_RS_SECRET", "OAUTHTRIO_OTHER_SECRET", "OAUTHTRIO_ALICE_PASSWORD"} {
		t.Setenv(v, "value-of-"+strings.ToLower(v))
	}
}

func TestLoadExampleConfig(t *testing.T) {
	setExampleEnv(t)
	cfg, err := LoadConfig("../../fixtures/targets/example.yaml")
	require.NoError(t, err)

	assert.Equal(t, "https://127.0.0.1:8443/oauth2", cfg.Issuer)
	web, ok := cfg.Client(RoleWeb)
	require.True(t, ok)
	assert.Equal(t, "value-of-oauthtrio_web_secret", web.Secret)
	assert.Equal(t, Scopes{"openid", "profile", "email", "offline_access"}, web.Scopes)
	pub, _ := cfg.Client(RolePublic)
	assert.Equal(t, AuthNone, pub.AuthMethod, "public clients default to none")
	svc, _ := cfg.Client(RoleService)
	assert.Equal(t, AuthClientSecretBasic, svc.AuthMethod)
	assert.Equal(t, ProfileAuto, cfg.Profile)
	assert.Equal(t, 10*time.Second, cfg.Timeouts.HTTP)
	assert.Equal(t, "Alice Liddell", cfg.Users.Valid.Claims["name"])
	assert.Equal(t, []string{"http://127.0.0.1:8765/cb"}, cfg.RedirectURIs())
	require.NotNil(t, cfg.ExpectedFailures)
	assert.Len(t, cfg.ExpectedFailures.Entries, 2)
	assert.True(t, filepath.IsAbs(cfg.ExpectedFailuresFile) || strings.HasPrefix(cfg.ExpectedFailuresFile, "../../fixtures/targets/"))
}

func TestConfigEnvMissingNamesFieldAndVariable(t *testing.T) {
	setExampleEnv(t)
	os.Unsetenv("OAUTHTRIO_WEB_SECRET")
	_, err := LoadConfig("../../fixtures/targets/example.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "clients.web.secret: environment variable OAUTHTRIO_WEB_SECRET is not set")
}

func TestConfigEnvExpansion(t *testing.T) {
	t.Setenv("T_SECRET", "a: b # not yaml")
	t.Setenv("T_NUM", "12345")
	t.Setenv("T_INSECURE", "true")
	cfg, err := ParseConfig([]byte(`
issuer: ${T_ISSUER:-http://127.0.0.1:9000}
tls: {insecure: "${T_INSECURE}"}
clients:
  service: {id: svc, secret: "${T_SECRET}"}
  other: {id: "${T_NUM}", secret: "${T_NUM}"}
`), "")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9000", cfg.Issuer)
	assert.True(t, cfg.TLS.Insecure)
	assert.Equal(t, "a: b # not yaml", cfg.Clients[RoleService].Secret)
	assert.Equal(t, "12345", cfg.Clients[RoleOther].Secret)
	assert.Equal(t, "12345", cfg.Clients[RoleOther].ID)
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"no issuer", `profile: auto`, []string{"issuer: is required"}},
		{"relative issuer", `issuer: /oauth2`, []string{"issuer: \"/oauth2\" is not an absolute http(s) URL"}},
		{"http issuer off loopback", `issuer: http://idp.example.org`, []string{"issuer: \"http://idp.example.org\" uses http"}},
		{"issuer with query", `issuer: https://idp.example.org/?x=1`, []string{"must not have a query or fragment"}},
		{"unknown key", "issuer: https://idp.example.org\nisuer: x", []string{"isuer: unknown key (line 2); did you mean issuer?"}},
		{"unknown role", "issuer: https://idp.example.org\nclients: {admin: {id: a, secret: b}}", []string{"clients.admin: unknown role"}},
		{"web without secret and redirect", "issuer: https://idp.example.org\nclients: {web: {id: w}}", []string{
			"clients.web.secret: is required for client_secret_basic", "clients.web.redirect_uri: is required for the web role"}},
		{"public with secret", "issuer: https://idp.example.org\nclients: {public: {id: p, secret: s, redirect_uri: 'http://127.0.0.1/cb'}}", []string{
			"clients.public.secret: a public client has no secret"}},
		{"public with basic", "issuer: https://idp.example.org\nclients: {public: {id: p, auth_method: client_secret_basic, redirect_uri: 'http://127.0.0.1/cb'}}", []string{
			"clients.public.auth_method: a public client authenticates with none"}},
		{"service with none", "issuer: https://idp.example.org\nclients: {service: {id: s, auth_method: none}}", []string{
			"clients.service.auth_method: the service role needs a confidential client"}},
		{"bad auth method", "issuer: https://idp.example.org\nclients: {service: {id: s, secret: x, auth_method: magic}}", []string{
			"clients.service.auth_method: \"magic\" is not one of"}},
		{"missing id", "issuer: https://idp.example.org\nclients: {service: {secret: x}}", []string{"clients.service.id: is required"}},
		{"redirect with fragment", "issuer: https://idp.example.org\nclients: {web: {id: w, secret: s, redirect_uri: 'http://127.0.0.1/cb#x'}}", []string{
			"clients.web.redirect_uri: \"http://127.0.0.1/cb#x\" must not have a fragment"}},
		{"remote redirect", "issuer: https://idp.example.org\nclients: {web: {id: w, secret: s, redirect_uri: 'https://app.example.org/cb'}}", []string{
			"must point at this machine"}},
		{"user without password", "issuer: https://idp.example.org\nusers: {valid: {username: alice}}", []string{"users.valid.password: is required"}},
		{"bad resource server", "issuer: https://idp.example.org\nresource_server: {url: api}", []string{"resource_server.url: \"api\" is not an absolute URL"}},
		{"code expiry by a public client", "issuer: https://idp.example.org\nassign: {code_expiry: public}", []string{"assign.code_expiry: \"public\" must be web or other"}},
		{"negative timeout", "issuer: https://idp.example.org\ntimeouts: {http: -1s}", []string{"timeouts.http: must be positive"}},
		{"bad duration", "issuer: https://idp.example.org\ntimeouts: {http: soon}", []string{"timeouts.http (line 2): cannot read `soon` as a duration"}},
		{"unknown nested key", "issuer: https://idp.example.org\nclients:\n  web:\n    id: a\n    auth_metod: none\n", []string{
			"clients.web.auth_metod: unknown key (line 5); did you mean clients.web.auth_method?"}},
		{"wrong shape names the key, not a Go type", "issuer: https://idp.example.org\nclients:\n  web: [a, b]\n", []string{"clients.web (line 3): cannot read a list as a mapping of keys"}},
		{"every missing variable at once", "issuer: ${OAUTHTRIO_TEST_UNSET_A}\nusers:\n  valid: {username: u, password: '${OAUTHTRIO_TEST_UNSET_B}'}\n", []string{
			"issuer: environment variable OAUTHTRIO_TEST_UNSET_A is not set", "users.valid.password: environment variable OAUTHTRIO_TEST_UNSET_B is not set"}},
		{"iat without registration", "issuer: https://idp.example.org\nregistration: {initial_access_token: x}", []string{
			"registration.initial_access_token: is set but registration.enabled is false"}},
		{"missing ca file", "issuer: https://idp.example.org\ntls: {ca_file: nowhere.pem}", []string{"tls.ca_file:"}},
		{"bad endpoint override", "issuer: https://idp.example.org\nendpoints: {introspection: x}", []string{
			"endpoints.introspection: not an endpoint member name", "endpoints.introspection: \"x\" is not an absolute URL"}},
		{"missing expected failures", "issuer: https://idp.example.org\nexpected_failures: none.yaml", []string{"expected_failures:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml), t.TempDir())
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestConfigReportsAllProblemsAtOnce(t *testing.T) {
	_, err := ParseConfig([]byte("clients: {web: {id: w}}\nusers: {valid: {username: a}}"), "")
	require.Error(t, err)
	msg := err.Error()
	for _, w := range []string{"issuer: is required", "clients.web.secret", "clients.web.redirect_uri", "users.valid.password"} {
		assert.Contains(t, msg, w)
	}
}

func TestExpectedFailures(t *testing.T) {
	ef, err := ParseExpectedFailures([]byte(`[
	  {"test-name": "oidcc-codereuse-30seconds", "reason": "codes live 60 s", "variant": {"client_auth_type": "client_secret_basic"}},
	  {"test-name": "No state is accepted", "reason": "state is mandatory at this issuer", "expected-result": "warning"}
	]`))
	require.NoError(t, err)

	e, ok := ef.Lookup("Reused code after 30 s", "@MUST", "@oidf:oidcc-codereuse-30seconds")
	require.True(t, ok)
	assert.Equal(t, "codes live 60 s", e.Reason)
	assert.Equal(t, "failure", e.ExpectedResult)
	e, ok = ef.Lookup("No state is accepted")
	require.True(t, ok)
	assert.Equal(t, "warning", e.ExpectedResult)
	_, ok = ef.Lookup("Something else", "@RFC6749-4.1.2")
	assert.False(t, ok)
	var none *ExpectedFailures
	_, ok = none.Lookup("x")
	assert.False(t, ok)

	_, err = ParseExpectedFailures([]byte(`
- test-name: a
- test-name: a
  reason: twice
- reason: nameless
- test-name: b
  reason: r
  expected-result: maybe
`))
	require.Error(t, err)
	for _, w := range []string{"entry 1 (a): reason is required", "entry 2 (a): test-name already listed in entry 1",
		"entry 3: test-name is required", `entry 4 (b): expected-result "maybe"`} {
		assert.Contains(t, err.Error(), w)
	}

	ef, err = ParseExpectedFailures(nil)
	require.NoError(t, err)
	assert.Empty(t, ef.Entries)
}

func TestProfileFileIsResolvedAgainstTheConfiguration(t *testing.T) {
	for _, tt := range []struct{ profile, want string }{
		{"iris", "iris"},
		{"my-login.yaml", "/etc/oauthtrio/my-login.yaml"},
		{"profiles/login.yml", "/etc/oauthtrio/profiles/login.yml"},
		{"/abs/login.yaml", "/abs/login.yaml"},
	} {
		cfg, err := ParseConfig([]byte("issuer: https://issuer.example\nprofile: "+tt.profile), "/etc/oauthtrio")
		require.NoError(t, err, tt.profile)
		assert.Equal(t, tt.want, cfg.Profile)
	}
	_, err := ParseConfig([]byte("issuer: https://issuer.example\nprofile: My Login"), "/etc/oauthtrio")
	assert.ErrorContains(t, err, "neither a shipped profile's name nor a .yaml file")
}

func TestRoleTargetsLoad(t *testing.T) {
	rs, err := LoadConfig("../../fixtures/targets/resource-server.yaml")
	require.NoError(t, err)
	assert.Empty(t, rs.Issuer, "the test OP is the issuer")
	assert.Equal(t, "127.0.0.1:9443", rs.TestOP.Addr)
	assert.True(t, strings.HasSuffix(rs.TestOP.CAOut, "fixtures/targets/test-op-ca.pem"), rs.TestOP.CAOut)
	assert.Equal(t, DefaultResourceClientID, rs.Resource.ClientID)
	assert.True(t, rs.Resource.Introspects)

	rp, err := LoadConfig("../../fixtures/targets/client.yaml")
	require.NoError(t, err)
	assert.Equal(t, "reference", rp.RelyingParty.Profile)
	assert.Equal(t, "web-app", rp.RelyingParty.Registration.ID)
}

func TestRoleSectionMistakes(t *testing.T) {
	_, err := ParseConfig([]byte(`
test_op: {addr: "nine"}
resource: {url: "api", scope: "a b", introspects: true}
client: {url: "https://app.test/", registration: {id: app}}
`), "")
	require.Error(t, err)
	for _, want := range []string{
		"test_op.addr", "resource.url", "resource.scope", "resource.introspector",
		"client.registration.redirect_uri", "client.profile",
	} {
		assert.Contains(t, err.Error(), want)
	}
}
