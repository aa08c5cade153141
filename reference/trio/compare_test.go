package trio_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/oauthtrio/oauthtrio/internal/selfsigned"
	"github.com/oauthtrio/oauthtrio/reference/trio"
	peerproc "github.com/oauthtrio/oauthtrio/steps/launch/peer"
)

// BenchmarkCompare drives the reference and node-oidc-provider (the CI
// peer, testdata/peers/node-oidc-provider) with the same vegeta load for
// the same time, in interleaved rounds, and prints each rate beside the
// crypto bound it is held to, measured in the same run on the same cores:
//
//   - client_credentials with ES256 against node-oidc-provider's, both
//     over HTTPS as the reference's front serves, and for information
//     against node-oidc-provider over plain HTTP;
//   - client_credentials with RS256 against RS256 signing alone;
//   - introspection of an RS256 access token against RS256 verification;
//   - the resource server, which verifies the JWT and then introspects it,
//     against half the verification rate (two verifications a request).
//
// The discovery document, which needs no crypto and no storage, is the
// floor of the same front: no request through it can be faster, so it
// shows how much of each bound an HTTPS endpoint can reach at all.
//
// Every reference token is written to a store on disk, as in production.
//
//	make bench-compare
//	go test -run '^$' -bench '^BenchmarkCompare$' -benchtime 1x ./reference/trio/
//
// OAUTHTRIO_COMPARE_SECONDS (default 10) is each attack's length and
// OAUTHTRIO_COMPARE_ROUNDS (default 2) the number of rounds.
func BenchmarkCompare(b *testing.B) {
	seconds := envInt(b, "OAUTHTRIO_COMPARE_SECONDS", 10)
	rounds := envInt(b, "OAUTHTRIO_COMPARE_ROUNDS", 2)
	attack := time.Duration(seconds) * time.Second

	bound := newRSABound(b)
	rs := startCompareTrio(b, "RS256")
	es := startCompareTrio(b, "ES256")
	node := startNodePeer(b, true)
	nodePlain := startNodePeer(b, false)

	// One token of each reference, for introspection and the resource server.
	token := rs.accessToken(b)
	targets := []compareTarget{
		{name: "reference ES256 token", client: es.client, build: es.tokenRequest},
		{name: "reference RS256 token", client: rs.client, build: rs.tokenRequest},
		{name: "node-oidc-provider token", client: node.client, build: node.tokenRequest},
		{name: "node, plain HTTP, token", client: nodePlain.client, build: nodePlain.tokenRequest},
		{name: "reference introspection", client: rs.client, build: func() vegeta.Target { return rs.introspectionRequest(token) }},
		{name: "reference resource server", client: rs.client, build: func() vegeta.Target { return rs.resourceRequest(token) }},
		{name: "reference discovery (floor)", client: rs.client, build: rs.discoveryRequest},
	}
	// A first request per target verifies each client secret once (bcrypt),
	// as a long-running server would have; the rounds measure the steady state.
	for _, t := range targets {
		if err := t.warmUp(); err != nil {
			b.Fatalf("%s: %v", t.name, err)
		}
	}
	rates := map[string][]float64{}
	for round := range rounds {
		for _, t := range targets {
			r, err := t.attack(attack)
			if err != nil {
				b.Fatalf("round %d, %s: %v", round+1, t.name, err)
			}
			rates[t.name] = append(rates[t.name], r)
		}
		rates["RS256 signing bound"] = append(rates["RS256 signing bound"], cryptoRate(attack, bound.sign))
		rates["RS256 verification bound"] = append(rates["RS256 verification bound"], cryptoRate(attack, bound.verify))
	}

	mean := func(name string) float64 {
		var sum float64
		for _, r := range rates[name] {
			sum += r
		}
		return sum / float64(len(rates[name]))
	}
	load, _ := os.ReadFile("/proc/loadavg")
	out := &strings.Builder{}
	fmt.Fprintf(out, "\n%d rounds of %s per target, interleaved, %d cores, load average %s\n", rounds, attack, runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	for _, name := range []string{"reference ES256 token", "reference RS256 token", "node-oidc-provider token", "node, plain HTTP, token",
		"reference introspection", "reference resource server", "reference discovery (floor)", "RS256 signing bound", "RS256 verification bound"} {
		fmt.Fprintf(out, "  %-28s %9.0f /s  (rounds: %s)\n", name, mean(name), formatRates(rates[name]))
	}
	ratios := []struct {
		name       string
		num, denom float64
		goal       float64
	}{
		{"reference ES256 / node-oidc-provider", mean("reference ES256 token"), mean("node-oidc-provider token"), 0.8},
		{"reference ES256 / node over plain HTTP", mean("reference ES256 token"), mean("node, plain HTTP, token"), 0},
		{"reference RS256 / RS256 signing bound", mean("reference RS256 token"), mean("RS256 signing bound"), 0.85},
		{"introspection / verification bound", mean("reference introspection"), mean("RS256 verification bound"), 0.8},
		{"resource server / half verification bound", mean("reference resource server"), mean("RS256 verification bound") / 2, 0.8},
		{"discovery (floor) / verification bound", mean("reference discovery (floor)"), mean("RS256 verification bound"), 0},
		{"introspection / discovery (floor)", mean("reference introspection"), mean("reference discovery (floor)"), 0},
		{"resource server / discovery (floor)", mean("reference resource server"), mean("reference discovery (floor)"), 0},
	}
	for _, r := range ratios {
		v := r.num / r.denom
		if r.goal > 0 {
			fmt.Fprintf(out, "  %-42s %5.2f  (goal ≥ %.2f)\n", r.name, v, r.goal)
		} else {
			fmt.Fprintf(out, "  %-42s %5.2f\n", r.name, v)
		}
		b.ReportMetric(v, strings.NewReplacer(" / ", "/", " ", "_").Replace(r.name))
	}
	fmt.Print(out.String())
}

// compareTarget is one endpoint under load; build makes each request.
type compareTarget struct {
	name   string
	client *http.Client
	build  func() vegeta.Target
}

// warmUp sends one request and wants a 2xx answer.
func (t compareTarget) warmUp() error {
	tgt := t.build()
	req, err := tgt.Request()
	if err != nil {
		return err
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// attack runs vegeta at its highest rate for d and returns the successful
// responses per second. Any failed response is an error: a fast error is
// not a rate.
func (t compareTarget) attack(d time.Duration) (float64, error) {
	// Eight connections, one request in flight on each, as wrk -c8 runs.
	// HTTP/1.1 on all of them: node-oidc-provider speaks nothing else, and
	// HTTP/2 would put the eight requests on one connection.
	const inFlight = 8
	hc := *t.client
	base, ok := hc.Transport.(*http.Transport)
	if !ok {
		base = http.DefaultTransport.(*http.Transport)
	}
	tr := base.Clone()
	tr.MaxIdleConnsPerHost = inFlight
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	if tr.TLSClientConfig != nil {
		tr.TLSClientConfig = tr.TLSClientConfig.Clone()
		tr.TLSClientConfig.NextProtos = nil
	}
	hc.Transport = tr
	defer hc.CloseIdleConnections()
	targeter := func(tgt *vegeta.Target) error {
		*tgt = t.build()
		return nil
	}
	attacker := vegeta.NewAttacker(vegeta.Client(&hc), vegeta.Workers(inFlight), vegeta.MaxWorkers(inFlight))
	var m vegeta.Metrics
	for res := range attacker.Attack(targeter, vegeta.Rate{}, d, t.name) {
		m.Add(res)
	}
	m.Close()
	if m.Success < 1 {
		return 0, fmt.Errorf("%.1f%% of %d requests failed (status codes %v, first errors %v)", 100*(1-m.Success), m.Requests, m.StatusCodes, first(m.Errors, 3))
	}
	return m.Throughput, nil
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// cryptoRate runs op on every core for d and returns operations per second.
func cryptoRate(d time.Duration, op func()) float64 {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				op()
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// rsaBound signs and verifies a digest the size of an access token's with
// a key of the reference's kind (RSA 2048, as keyring generates).
type rsaBound struct {
	key    *rsa.PrivateKey
	digest [sha256.Size]byte
	sig    []byte
}

func newRSABound(b *testing.B) *rsaBound {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	r := &rsaBound{key: k, digest: sha256.Sum256([]byte(strings.Repeat("access-token-claims.", 20)))}
	if r.sig, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, r.digest[:]); err != nil {
		b.Fatal(err)
	}
	return r
}

func (r *rsaBound) sign() { _, _ = rsa.SignPKCS1v15(nil, r.key, crypto.SHA256, r.digest[:]) }

func (r *rsaBound) verify() {
	_ = rsa.VerifyPKCS1v15(&r.key.PublicKey, crypto.SHA256, r.digest[:], r.sig)
}

func formatRates(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strings.Join(parts, ", ")
}

func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive whole number", name, v)
	}
	return n
}

// The resource server's client (fixtures/trio.yaml).
const (
	resserverID     = "resserver"
	resserverSecret = "resserver-secret"
)

// compareTrio is a trio on disk signing with one algorithm.
type compareTrio struct {
	base, issuer, tokenURL, introspectionURL string
	client                                   *http.Client
}

func startCompareTrio(b *testing.B, alg string) *compareTrio {
	tr, err := trio.Start(context.Background(), trio.Config{Addr: "127.0.0.1:0", StateDir: privateDir(b), SigningAlgorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Close(context.Background()) })
	var meta struct {
		TokenEndpoint         string `json:"token_endpoint"`
		IntrospectionEndpoint string `json:"introspection_endpoint"`
	}
	resp, err := tr.HTTPClient().Get(tr.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil {
		b.Fatal(err)
	}
	return &compareTrio{base: tr.URL(), issuer: tr.Issuer(), tokenURL: meta.TokenEndpoint, introspectionURL: meta.IntrospectionEndpoint, client: tr.HTTPClient()}
}

// formRequest is a form POST with HTTP Basic client authentication; RFC
// 6749 §2.3.1 form-encodes the id and secret first.
func formRequest(endpoint, id, secret string, form url.Values) vegeta.Target {
	r, _ := http.NewRequest(http.MethodPost, endpoint, nil)
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return vegeta.Target{Method: http.MethodPost, URL: endpoint, Header: r.Header, Body: []byte(form.Encode())}
}

func (c *compareTrio) tokenRequest() vegeta.Target {
	return formRequest(c.tokenURL, postmanClientID, postmanClientSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {"my/scope"}})
}

func (c *compareTrio) introspectionRequest(token string) vegeta.Target {
	return formRequest(c.introspectionURL, resserverID, resserverSecret, url.Values{"token": {token}})
}

func (c *compareTrio) resourceRequest(token string) vegeta.Target {
	return vegeta.Target{Method: http.MethodGet, URL: c.base + "/resserver/protected-resources/",
		Header: http.Header{"Authorization": {"Bearer " + token}}}
}

func (c *compareTrio) discoveryRequest() vegeta.Target {
	return vegeta.Target{Method: http.MethodGet, URL: c.issuer + "/.well-known/openid-configuration"}
}

func (c *compareTrio) accessToken(b *testing.B) string {
	tgt := c.tokenRequest()
	req, err := tgt.Request()
	if err != nil {
		b.Fatal(err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("token endpoint: status %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// nodePeer is node-oidc-provider on a free loopback port.
type nodePeer struct {
	issuer string
	client *http.Client
}

// startNodePeer starts node-oidc-provider, over HTTPS with a certificate
// of the kind the reference's front makes (ECDSA P-256) when overHTTPS is set.
func startNodePeer(b *testing.B, overHTTPS bool) *nodePeer {
	const fixture = "../../testdata/peers/node-oidc-provider"
	dir := b.TempDir()
	err := peerproc.InstallNPM(context.Background(), fixture, dir, "package.json", "package-lock.json", "server.mjs")
	if errors.Is(err, peerproc.ErrUnavailable) {
		b.Skipf("node-oidc-provider cannot run here, so there is nothing to compare with: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	ports, err := peerproc.FreePorts(2)
	if err != nil {
		b.Fatal(err)
	}
	env := []string{"NODE_OIDC_PORT=" + strconv.Itoa(ports[0]), "NODE_OIDC_REDIRECT_PORT=" + strconv.Itoa(ports[1])}
	peer := &nodePeer{issuer: "http://127.0.0.1:" + strconv.Itoa(ports[0]), client: &http.Client{}}
	if overHTTPS {
		tlsEnv, client := nodeCertificate(b, dir)
		env = append(env, tlsEnv...)
		peer.issuer = "https://127.0.0.1:" + strconv.Itoa(ports[0])
		peer.client = client
	}
	proc, err := peerproc.Start(dir, env, "node", "server.mjs")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { proc.Stop(5 * time.Second) })
	if err := proc.WaitForDiscovery(context.Background(), peer.client, peer.issuer, 100*time.Millisecond, 30*time.Second); err != nil {
		b.Fatalf("%v\n%s", err, proc.Output())
	}
	return peer
}

// nodeCertificate writes a certificate for 127.0.0.1 into dir and returns
// the environment that tells server.mjs to serve it and a client that
// trusts it.
func nodeCertificate(b *testing.B, dir string) ([]string, *http.Client) {
	cert, err := selfsigned.New(selfsigned.Options{CommonName: "node-oidc-provider", Hosts: []string{"127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, cert.CertPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(keyFile, cert.KeyPEM, 0o600); err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return []string{"NODE_OIDC_TLS_CERT=" + certFile, "NODE_OIDC_TLS_KEY=" + keyFile}, client
}

// tokenRequest is the same request to node-oidc-provider's service client
// (testdata/peers/node-oidc-provider/server.mjs).
func (n *nodePeer) tokenRequest() vegeta.Target {
	return formRequest(n.issuer+"/token", "oauthtrio-service", "service-secret-3b8e2f6a1c9d4e7b0a5f8c2d6e1b9a4c",
		url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read"}})
}
