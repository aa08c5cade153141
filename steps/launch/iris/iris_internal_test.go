package iris

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/internal/selfsigned"

	"github.com/oauthtrio/oauthtrio/features"
	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

func TestOptionsResolve(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	o, err := Options{}.resolve(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if o.Image != DefaultImage || o.GatewayImage != DefaultGatewayImage || o.StartupTimeout != DefaultStartupTimeout || o.Log == nil {
		t.Errorf("defaults: %+v", o)
	}
	// The defaults name the release fixtures/iris was compared with, never
	// a floating tag.
	for _, img := range []string{DefaultImage, DefaultGatewayImage} {
		if !strings.HasSuffix(img, ":2026.1") {
			t.Errorf("default image %s is not pinned to 2026.1", img)
		}
	}

	env[EnvImage] = "containers.intersystems.com/intersystems/iris-community:2026.1"
	env[EnvGatewayImage] = "containers.intersystems.com/intersystems/webgateway:2026.1"
	o, err = Options{}.resolve(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if o.Image != env[EnvImage] || o.GatewayImage != env[EnvGatewayImage] {
		t.Errorf("environment ignored: %+v", o)
	}
	o, _ = Options{Image: "my/iris:1"}.resolve(getenv)
	if o.Image != "my/iris:1" {
		t.Errorf("an explicit image must win over the environment, got %q", o.Image)
	}

	for _, bad := range []Options{
		{Image: "iris community"},
		{GatewayImage: "--privileged"},
		{StartupTimeout: -1},
	} {
		if _, err := bad.resolve(getenv); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestIssuerURL(t *testing.T) {
	for _, tc := range []struct{ host, port, prefix, want string }{
		{"localhost", "32768", "", "https://localhost:32768/oauth2"},
		{"localhost", "443", "", "https://localhost/oauth2"},
		{"webserver", "", "authserver", "https://webserver/authserver/oauth2"},
		{"webserver", "", "/authserver/", "https://webserver/authserver/oauth2"},
		{"::1", "8443", "", "https://[::1]:8443/oauth2"},
		{"::1", "", "", "https://[::1]/oauth2"},
	} {
		if got := IssuerURL(tc.host, tc.port, tc.prefix); got != tc.want {
			t.Errorf("IssuerURL(%q, %q, %q) = %q, want %q", tc.host, tc.port, tc.prefix, got, tc.want)
		}
	}
}

func TestTargetConfig(t *testing.T) {
	dir := t.TempDir()
	c, err := selfsigned.New(selfsigned.Options{Hosts: []string{"localhost"}})
	cert := c.CertPEM
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	issuerURL := IssuerURL("localhost", "49153", "")
	cfg, err := TargetConfig(issuerURL, caFile, dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != issuerURL || cfg.TLS.CAFile != caFile || cfg.TLS.Insecure {
		t.Errorf("issuer/tls: %q %+v", cfg.Issuer, cfg.TLS)
	}
	if cfg.Profile != "iris" || !cfg.Workshop {
		t.Errorf("profile %q, workshop %v", cfg.Profile, cfg.Workshop)
	}
	for _, role := range issuer.Roles {
		if _, ok := cfg.Client(role); !ok {
			t.Errorf("no client for role %s", role)
		}
	}
	if got := cfg.RedirectURIs(); !slices.Equal(got, []string{"http://127.0.0.1:8765/callback"}) {
		t.Errorf("redirect URIs %v", got)
	}
	if cfg.Users.Valid == nil || cfg.Users.Invalid == nil || cfg.Users.Valid.Username != cfg.Users.Invalid.Username {
		t.Errorf("users: the invalid user must be the valid one with a wrong password: %+v %+v", cfg.Users.Valid, cfg.Users.Invalid)
	}
	if cfg.ExpectedFailures == nil || len(cfg.ExpectedFailures.Entries) == 0 {
		t.Error("the expected failures were not loaded")
	}
	if _, err := cfg.HTTPClient(); err != nil {
		t.Errorf("HTTP client: %v", err)
	}
}

// The ObjectScript set-up and the target configuration must agree on every
// id, secret, redirect URI and user.
func TestSetupMatchesTargetConfig(t *testing.T) {
	cls, err := fs.ReadFile(fixtures.IRIS, "iris/%ZOAuthTrio.Setup.cls")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := TargetConfig("https://localhost/oauth2", "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	quoted := func(s string) bool { return strings.Contains(string(cls), `"`+s+`"`) }
	for _, role := range issuer.Roles {
		c, _ := cfg.Client(role)
		for what, v := range map[string]string{"id": c.ID, "secret": c.Secret, "redirect_uri": c.RedirectURI, "auth_method": c.AuthMethod} {
			if v != "" && v != issuer.AuthNone && !quoted(v) {
				t.Errorf("%s %s %q is not in %%ZOAuthTrio.Setup", role, what, v)
			}
		}
	}
	u := cfg.Users.Valid
	for _, v := range []string{u.Username, u.Password, u.Claims["name"].(string), u.Claims["email"].(string)} {
		if !quoted(v) {
			t.Errorf("user value %q is not in %%ZOAuthTrio.Setup", v)
		}
	}
	if quoted(cfg.Users.Invalid.Password) {
		t.Error("the invalid user's password must not be the real one")
	}
	for _, scope := range []string{"my/scope"} {
		if !quoted(scope) {
			t.Errorf("scope %s is not configured", scope)
		}
	}
}

// Every expected failure must name a scenario (or an @oidf module) of the
// shipped features, so that a renamed scenario does not silently turn a
// known deviation into a failure of the run.
func TestExpectedFailuresNameScenarios(t *testing.T) {
	names := map[string]bool{}
	scenario := regexp.MustCompile(`^\s*Scenario(?: Outline)?:\s*(.+?)\s*$`)
	oidf := regexp.MustCompile(`@oidf:(\S+)`)
	err := fs.WalkDir(features.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".feature") {
			return err
		}
		f, err := features.Files.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if m := scenario.FindStringSubmatch(sc.Text()); m != nil {
				names[m[1]] = true
			}
			for _, m := range oidf.FindAllStringSubmatch(sc.Text(), -1) {
				names[m[1]] = true
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	ef, err := issuer.ParseExpectedFailures(fixtures.IRISExpectedFailures)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ef.Entries {
		if !names[e.TestName] {
			t.Errorf("expected failure %q names no scenario or @oidf module of features/", e.TestName)
		}
	}
}

func TestIRISFiles(t *testing.T) {
	files, err := irisFiles(fixtures.IRIS)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.ContainerFilePath)
	}
	slices.Sort(got)
	want := []string{
		irisDir + "/%ZOAuthTrio.Authenticate.cls",
		irisDir + "/%ZOAuthTrio.Setup.cls",
		irisDir + "/%ZOAuthTrio.Validate.cls",
		irisDir + "/setup.script",
	}
	if !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	script, _ := fs.ReadFile(fixtures.IRIS, "iris/setup.script")
	for _, kv := range setupEnv("localhost", "1") {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.Contains(string(script), `"`+name+`"`) {
			t.Errorf("setup.script does not read %s", name)
		}
	}
	// Printed in two pieces, so that an echo of the script cannot fake it.
	if strings.Contains(string(script), setupDone) || !strings.Contains(string(script), `"oauthtrio: set-up"," done"`) {
		t.Errorf("setup.script must print %q from two pieces", setupDone)
	}
}

func TestGatewayFiles(t *testing.T) {
	c, err := selfsigned.New(selfsigned.Options{Hosts: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	files, err := gatewayFiles(fixtures.IRIS, c.CertPEM, c.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	content := map[string]string{}
	for _, f := range files {
		b, err := io.ReadAll(f.Reader)
		if err != nil {
			t.Fatal(err)
		}
		content[f.ContainerFilePath] = string(b)
	}
	conf, ini := content[gatewayDir+"/CSP.conf"], content[gatewayDir+"/CSP.ini"]
	if conf == "" || ini == "" {
		t.Fatalf("CSP.conf or CSP.ini missing: %v", files)
	}
	// Apache must find the certificate and key where they are copied.
	for _, p := range []string{gatewayDir + "/tls/server.crt", gatewayDir + "/tls/server.key"} {
		if content[p] == "" {
			t.Errorf("%s not copied", p)
		}
		if !strings.Contains(conf, `"`+p+`"`) {
			t.Errorf("CSP.conf does not use %s", p)
		}
	}
	if content[gatewayDir+"/tls/server.crt"] != string(c.CertPEM) || content[gatewayDir+"/tls/server.key"] != string(c.KeyPEM) {
		t.Error("certificate or key altered")
	}
	port := strings.TrimSuffix(httpsPort, "/tcp")
	if !strings.Contains(conf, "Listen "+port) || !strings.Contains(conf, "<VirtualHost *:"+port+">") {
		t.Errorf("CSP.conf does not serve HTTPS on %s", port)
	}
	// The gateway reaches IRIS by its network alias on the superserver port.
	for _, line := range []string{"Ip_Address=" + irisAlias, "TCP_Port=1972", "/=Enabled", "Username=CSPSystem"} {
		if !strings.Contains(ini, line+"\n") {
			t.Errorf("CSP.ini lacks %q", line)
		}
	}
}

func TestSetupMessages(t *testing.T) {
	out := "\nNode: 1a2b, Instance: IRIS\n\n%SYS> try { write \"oauthtrio: set-up\",\" done\",! }\n" +
		"%SYS>oauthtrio: WARNING: resource server client oauthtrio-rs not saved, introspection will fail: ERROR #5001\n" +
		"oauthtrio: issuer https://localhost:49153/oauth2\r\n" +
		"oauthtrio: set-up done\n%SYS>\n"
	want := []string{
		"WARNING: resource server client oauthtrio-rs not saved, introspection will fail: ERROR #5001",
		"issuer https://localhost:49153/oauth2",
		"set-up done",
	}
	if got := setupMessages([]byte(out)); !slices.Equal(got, want) {
		t.Errorf("setupMessages = %q, want %q", got, want)
	}
}

func TestCertificateCoversTheDockerHost(t *testing.T) {
	hosts := certificateHosts("tcp://docker.example.org:2376")
	c, err := selfsigned.New(selfsigned.Options{Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Leaf)
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "docker.example.org"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: roots}); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
}

func TestDockerHostName(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"unix:///var/run/docker.sock":   "",
		"tcp://10.0.0.5:2376":           "10.0.0.5",
		"tcp://docker.example.org":      "docker.example.org",
		"tcp://[2001:db8::1]:2376/path": "2001:db8::1",
	} {
		if got := dockerHostName(in); got != want {
			t.Errorf("dockerHostName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := certificateHosts("tcp://127.0.0.1:2375"); len(got) != 3 {
		t.Errorf("loopback DOCKER_HOST added twice: %v", got)
	}
}

// Without a Docker engine Start fails fast with ErrNoDocker and leaves
// nothing behind.
func TestStartWithoutDocker(t *testing.T) {
	if Healthy(context.Background()) == nil {
		t.Skip("a Docker engine answers; TestIRISContainer covers Start")
	}
	inst, err := Start(context.Background(), Options{})
	if !errors.Is(err, ErrNoDocker) || inst != nil {
		t.Fatalf("Start without Docker = %v, %v; want nil, ErrNoDocker", inst, err)
	}
}
