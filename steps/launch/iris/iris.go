// Package iris starts a real InterSystems IRIS authorization server
// for the conformance suite: IRIS Community Edition and the InterSystems web
// gateway (Apache) in front of it, on one Docker network, configured by the
// ObjectScript set-up in fixtures/iris. Start returns the target
// configuration of fixtures/targets/iris.yaml with the issuer and the
// certificate of the running pair.
//
// IRIS serves its authorization and token endpoints only over TLS, and the
// issuer it states is the one stored in its configuration, so the set-up
// runs after the gateway's HTTPS port is mapped: the issuer is then exactly
// the URL the suite and its browser use.
package iris

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/oauthtrio/oauthtrio/internal/selfsigned"

	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// Images, overridable with OAUTHTRIO_IRIS_IMAGE and
// OAUTHTRIO_WEBGATEWAY_IMAGE. Both are on InterSystems' registry and need
// no login. They are pinned to the release fixtures/iris was compared with
// (IRISMeister/iris-oauth2 runs iris-community:2026.1), so that reports
// stay comparable.
const (
	DefaultImage        = "containers.intersystems.com/intersystems/iris-community:2026.1"
	DefaultGatewayImage = "containers.intersystems.com/intersystems/webgateway:2026.1"

	EnvImage        = "OAUTHTRIO_IRIS_IMAGE"
	EnvGatewayImage = "OAUTHTRIO_WEBGATEWAY_IMAGE"
)

// DefaultStartupTimeout bounds each wait: IRIS's first start, the
// gateway's, and the discovery document once configured. Pulling the
// images comes on top.
const DefaultStartupTimeout = 5 * time.Minute

// Where things live inside the containers.
const (
	// irisAlias is the IRIS container's name on the network, the
	// Ip_Address of fixtures/iris/webgateway/CSP.ini.
	irisAlias = "iris"
	// irisDir receives the .cls files and setup.script. The image's user
	// irisowner has this home directory.
	irisDir = "/home/irisowner/oauthtrio"
	// gatewayDir receives CSP.conf, CSP.ini and tls/; CSP.conf names the
	// certificate paths below it.
	gatewayDir = "/webgateway-shared"
	// httpsPort is the gateway's HTTPS listener (CSP.conf).
	httpsPort = "8443/tcp"
	// setupDone is what setup.script prints last.
	setupDone = "oauthtrio: set-up done"
)

// ErrNoDocker says that no Docker engine answered; the message points at
// the README.
var ErrNoDocker = errors.New("no Docker engine")

// Options configure Start. The zero value uses the defaults.
type Options struct {
	// Image and GatewayImage default to $OAUTHTRIO_IRIS_IMAGE and
	// $OAUTHTRIO_WEBGATEWAY_IMAGE, then to DefaultImage and
	// DefaultGatewayImage.
	Image        string
	GatewayImage string
	// Dir receives the issuer's certificate and the expected-failures file
	// the configuration points at. Empty means a temporary directory that
	// Terminate removes.
	Dir string
	// StartupTimeout bounds each wait; default DefaultStartupTimeout.
	StartupTimeout time.Duration
	// Log receives progress lines (default: discarded).
	Log io.Writer
}

// resolve fills the defaults from getenv and checks the values.
func (o Options) resolve(getenv func(string) string) (Options, error) {
	if o.Image == "" {
		o.Image = getenv(EnvImage)
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.GatewayImage == "" {
		o.GatewayImage = getenv(EnvGatewayImage)
	}
	if o.GatewayImage == "" {
		o.GatewayImage = DefaultGatewayImage
	}
	if o.StartupTimeout == 0 {
		o.StartupTimeout = DefaultStartupTimeout
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	var errs []error
	for name, img := range map[string]string{"image": o.Image, "gateway image": o.GatewayImage} {
		if strings.ContainsAny(img, " \t\r\n") || strings.HasPrefix(img, "-") {
			errs = append(errs, fmt.Errorf("IRIS container: %s %q is not an image reference", name, img))
		}
	}
	if o.StartupTimeout < 0 {
		errs = append(errs, fmt.Errorf("IRIS container: startup timeout %v is negative", o.StartupTimeout))
	}
	return o, errors.Join(errs...)
}

// Instance is a running IRIS with its web gateway.
type Instance struct {
	// Config is the target configuration for steps.Run.
	Config *issuer.Config
	// Issuer is the issuer URL IRIS was configured with.
	Issuer string

	iris, gateway testcontainers.Container
	network       *testcontainers.DockerNetwork
	dir           string
	removeDir     bool
}

// Healthy reports whether a Docker engine answers, as an error wrapping
// ErrNoDocker when none does. testcontainers panics in some set-ups without
// an engine (SkipIfProviderIsNotHealthy recovers the same way, but only
// works inside a test).
func Healthy(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrNoDocker, r)
		}
	}()
	provider, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	defer provider.Close()
	if err := provider.Health(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	return nil
}

// Start starts IRIS and the web gateway, runs the set-up and waits until
// the discovery document is served over HTTPS. On error nothing is left
// running. The caller must Terminate the instance.
func Start(ctx context.Context, opts Options) (inst *Instance, err error) {
	opts, err = opts.resolve(os.Getenv)
	if err != nil {
		return nil, err
	}
	if err := Healthy(ctx); err != nil {
		return nil, err
	}
	inst = &Instance{dir: opts.Dir}
	defer func() {
		if err != nil {
			_ = inst.Terminate(context.WithoutCancel(ctx))
			inst = nil
		}
	}()
	if inst.dir == "" {
		if inst.dir, err = os.MkdirTemp("", "oauthtrio-iris-"); err != nil {
			return nil, err
		}
		inst.removeDir = true
	}

	// The certificate must cover the name the suite will use; the port is
	// not part of it, so it can be made before the port is known.
	hosts := certificateHosts(os.Getenv("DOCKER_HOST"))
	c, err := selfsigned.New(selfsigned.Options{CommonName: hosts[0], Organization: "oauthtrio test IRIS", Hosts: hosts})
	if err != nil {
		return nil, err
	}
	certFile := filepath.Join(inst.dir, "iris-issuer.pem")
	if err := os.WriteFile(certFile, c.CertPEM, 0o644); err != nil {
		return nil, err
	}

	if inst.network, err = network.New(ctx); err != nil {
		return nil, fmt.Errorf("IRIS container: network: %w", err)
	}

	irisFiles, err := irisFiles(fixtures.IRIS)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Log, "IRIS container: starting %s\n", opts.Image)
	inst.iris, err = testcontainers.Run(ctx, opts.Image,
		network.WithNetwork([]string{irisAlias}, inst.network),
		testcontainers.WithFiles(irisFiles...),
		// The capability check refuses to start where IPC_LOCK is missing,
		// as on many CI runners; the instance works without it.
		testcontainers.WithCmd("--check-caps", "false"),
		testcontainers.WithWaitStrategy(wait.ForLog("Enabling logons").WithStartupTimeout(opts.StartupTimeout)),
	)
	if err != nil {
		return nil, fmt.Errorf("IRIS container: IRIS: %w", err)
	}

	gwFiles, err := gatewayFiles(fixtures.IRIS, c.CertPEM, c.KeyPEM)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Log, "IRIS container: starting %s\n", opts.GatewayImage)
	inst.gateway, err = testcontainers.Run(ctx, opts.GatewayImage,
		network.WithNetwork([]string{"webgateway"}, inst.network),
		testcontainers.WithFiles(gwFiles...),
		testcontainers.WithEnv(map[string]string{
			"ISC_CSP_CONF_FILE": gatewayDir + "/CSP.conf",
			"ISC_CSP_INI_FILE":  gatewayDir + "/CSP.ini",
		}),
		testcontainers.WithExposedPorts(httpsPort),
		testcontainers.WithWaitStrategy(wait.ForListeningPort(httpsPort).WithStartupTimeout(opts.StartupTimeout)),
	)
	if err != nil {
		return nil, fmt.Errorf("IRIS container: web gateway: %w", err)
	}
	host, err := inst.gateway.Host(ctx)
	if err != nil {
		return nil, fmt.Errorf("IRIS container: web gateway host: %w", err)
	}
	mapped, err := inst.gateway.MappedPort(ctx, httpsPort)
	if err != nil {
		return nil, fmt.Errorf("IRIS container: web gateway port: %w", err)
	}
	port := mapped.Port()

	fmt.Fprintf(opts.Log, "IRIS container: configuring the authorization server for https://%s\n", net.JoinHostPort(host, port))
	out, err := runSetup(ctx, inst.iris, host, port)
	if err != nil {
		return nil, err
	}
	for _, line := range setupMessages(out) {
		fmt.Fprintf(opts.Log, "IRIS container: %s\n", line)
	}
	inst.Issuer = IssuerURL(host, port, "")

	cfg, err := TargetConfig(inst.Issuer, certFile, inst.dir)
	if err != nil {
		return nil, err
	}
	hc, err := cfg.HTTPClient()
	if err != nil {
		return nil, err
	}
	if err := waitForDiscovery(ctx, hc, inst.Issuer, opts.StartupTimeout); err != nil {
		return nil, err
	}
	inst.Config = cfg
	fmt.Fprintf(opts.Log, "IRIS container: issuer %s is up\n", inst.Issuer)
	return inst, nil
}

// Terminate stops the containers and removes the network and, when Start
// made it, the directory.
func (in *Instance) Terminate(ctx context.Context) error {
	if in == nil {
		return nil
	}
	var errs []error
	for _, c := range []testcontainers.Container{in.gateway, in.iris} {
		if err := testcontainers.TerminateContainer(c); err != nil {
			errs = append(errs, err)
		}
	}
	if in.network != nil {
		if err := in.network.Remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("IRIS container: network: %w", err))
		}
	}
	if in.removeDir && in.dir != "" {
		if err := os.RemoveAll(in.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// IssuerURL is the issuer IRIS states for an endpoint with UseSSL, host,
// port and prefix: https://host[:port][/prefix]/oauth2 (the port omitted
// when 443, IPv6 hosts bracketed).
func IssuerURL(host, port, prefix string) string {
	hostport := host
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if port != "" && port != "443" {
		hostport = net.JoinHostPort(host, port)
	}
	p := strings.Trim(prefix, "/")
	if p != "" {
		p = "/" + p
	}
	return "https://" + hostport + p + "/oauth2"
}

// TargetConfig is fixtures/targets/iris.yaml for an issuer whose TLS
// certificate is caFile. dir receives the expected-failures file.
func TargetConfig(issuerURL, caFile, dir string) (*issuer.Config, error) {
	if err := os.WriteFile(filepath.Join(dir, "iris-expected-failures.yaml"), fixtures.IRISExpectedFailures, 0o644); err != nil {
		return nil, err
	}
	cfg, err := issuer.ParseConfig(fixtures.IRISTarget, dir)
	if err != nil {
		return nil, fmt.Errorf("fixtures/targets/iris.yaml: %w", err)
	}
	// The environment may name another IRIS; this one wins.
	cfg.Issuer = issuerURL
	cfg.TLS = issuer.TLS{CAFile: caFile}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// irisFiles are the set-up files for the IRIS container.
func irisFiles(fsys fs.FS) ([]testcontainers.ContainerFile, error) {
	var files []testcontainers.ContainerFile
	err := fs.WalkDir(fsys, "iris", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if path.Dir(p) != "iris" || (path.Ext(p) != ".cls" && path.Base(p) != "setup.script") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, testcontainers.ContainerFile{
			Reader:            bytes.NewReader(data),
			ContainerFilePath: irisDir + "/" + path.Base(p),
			FileMode:          0o644,
		})
		return nil
	})
	if err == nil && len(files) == 0 {
		err = errors.New("no IRIS set-up files in fixtures/iris")
	}
	return files, err
}

// gatewayFiles are CSP.conf and CSP.ini from fixtures/iris/webgateway plus
// the certificate and key. The key is a throw-away one made for this run;
// it is world-readable because the image's Apache user is not known in
// advance, which is harmless in a container that lives for one test run.
func gatewayFiles(fsys fs.FS, cert, key []byte) ([]testcontainers.ContainerFile, error) {
	files := []testcontainers.ContainerFile{
		{Reader: bytes.NewReader(cert), ContainerFilePath: gatewayDir + "/tls/server.crt", FileMode: 0o644},
		{Reader: bytes.NewReader(key), ContainerFilePath: gatewayDir + "/tls/server.key", FileMode: 0o644},
	}
	for _, name := range []string{"CSP.conf", "CSP.ini"} {
		data, err := fs.ReadFile(fsys, "iris/webgateway/"+name)
		if err != nil {
			return nil, err
		}
		files = append(files, testcontainers.ContainerFile{
			Reader:            bytes.NewReader(data),
			ContainerFilePath: gatewayDir + "/" + name,
			FileMode:          0o644,
		})
	}
	return files, nil
}

// setupEnv is the environment setup.script reads.
func setupEnv(host, port string) []string {
	return []string{
		"OAUTHTRIO_IRIS_DIR=" + irisDir,
		"OAUTHTRIO_ISSUER_HOST=" + host,
		"OAUTHTRIO_ISSUER_PORT=" + port,
		"OAUTHTRIO_ISSUER_PREFIX=",
		// A fresh container forces a password change on CSPSystem, which
		// would refuse the gateway's login.
		"OAUTHTRIO_UNEXPIRE=1",
	}
}

// runSetup feeds setup.script to a terminal session in %SYS and returns
// what it printed. The image's default user owns the instance, which lets
// it in without a password.
func runSetup(ctx context.Context, c testcontainers.Container, host, port string) ([]byte, error) {
	code, r, err := c.Exec(ctx,
		[]string{"sh", "-c", "iris session IRIS -U %SYS < " + irisDir + "/setup.script"},
		tcexec.Multiplexed(), tcexec.WithEnv(setupEnv(host, port)))
	if err != nil {
		return nil, fmt.Errorf("IRIS container: running the set-up: %w", err)
	}
	out, _ := io.ReadAll(r)
	if code != 0 || !bytes.Contains(out, []byte(setupDone)) {
		return out, fmt.Errorf("IRIS container: the set-up failed (exit status %d):\n%s", code, bytes.TrimSpace(out))
	}
	return out, nil
}

// setupMessages are the lines the set-up prints for the user (the issuer,
// a client it could not save), found among the terminal's prompts. A line
// quoting the prefix is script text the terminal echoed, not a message.
func setupMessages(out []byte) []string {
	var msgs []string
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, `"oauthtrio: `) {
			continue
		}
		if _, msg, ok := strings.Cut(line, "oauthtrio: "); ok {
			msgs = append(msgs, strings.TrimSpace(msg))
		}
	}
	return msgs
}

// waitForDiscovery polls the discovery document through the gateway until
// it names the issuer: then the gateway reaches IRIS, IRIS sees TLS and the
// configuration is saved.
func waitForDiscovery(ctx context.Context, hc *http.Client, issuer string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := issuer + "/.well-known/openid-configuration"
	var last error
	for {
		last = fetchIssuer(ctx, hc, url, issuer)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("IRIS container: %s did not come up within %v: %w", url, timeout, last)
		case <-time.After(2 * time.Second):
		}
	}
}

func fetchIssuer(ctx context.Context, hc *http.Client, url, issuer string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if doc.Issuer != issuer {
		return fmt.Errorf("issuer is %q, expected %q", doc.Issuer, issuer)
	}
	return nil
}

// certificateHosts are the names the gateway's certificate covers: the
// loopback names testcontainers reports for a local engine, and the host of
// a remote DOCKER_HOST.
func certificateHosts(dockerHost string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h := dockerHostName(dockerHost); h != "" && h != "localhost" && h != "127.0.0.1" {
		hosts = append(hosts, h)
	}
	return hosts
}

// dockerHostName is the host of a tcp:// DOCKER_HOST, "" for sockets.
func dockerHostName(dockerHost string) string {
	rest, ok := strings.CutPrefix(dockerHost, "tcp://")
	if !ok {
		return ""
	}
	rest, _, _ = strings.Cut(rest, "/")
	if h, _, err := net.SplitHostPort(rest); err == nil {
		return h
	}
	return rest
}
