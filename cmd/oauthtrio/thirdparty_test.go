package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/reference/trio"
	"github.com/oauthtrio/oauthtrio/steps/launch/peer"
)

// requireClientsEnv makes a missing Node.js or npm registry a failure
// instead of a skip; CI sets it, so the third-party clients cannot
// silently stop running.
const requireClientsEnv = "OAUTHTRIO_REQUIRE_PEERS"

// The reference must work, unchanged, with clients someone else wrote.
// Each test starts the trio on a free loopback port and runs a client
// from testdata/clients against it.

// TestPostmanCollectionWithNewman runs the IRIS workshop's Postman
// collection with newman and checks every request was answered 200 with
// the workshop's JSON. The collection names https://webserver, the
// workshop's web server; the copy newman runs names the trio's address
// instead, which is all a hosts entry would change.
func TestPostmanCollectionWithNewman(t *testing.T) {
	dir := installClient(t, "newman", "package.json", "package-lock.json", "use-token.js", "check-report.js")
	tr := startTrio(t)

	raw, err := os.ReadFile("../../testdata/clients/newman/IRISOAuth2.postman_collection.json")
	if err != nil {
		t.Fatal(err)
	}
	collection := filepath.Join(dir, "collection.json")
	if err := os.WriteFile(collection, pointAt(t, raw, tr.URL()), 0o600); err != nil {
		t.Fatal(err)
	}
	withToken := filepath.Join(dir, "with-token.json")
	report := filepath.Join(dir, "newman.json")
	runNode(t, dir, nil, "node", "use-token.js", collection, withToken, tr.CertFile)
	runNode(t, dir, nil, "node_modules/.bin/newman", "run", withToken,
		"--ssl-extra-ca-certs", tr.CertFile, "--reporters", "cli,json", "--reporter-json-export", report)
	runNode(t, dir, nil, "node", "check-report.js", report, strconv.Itoa(countRequests(t, raw)))
}

// TestOpenIDClientRelyingParty runs rp.mjs, a relying party built on npm's
// openid-client v6 (strict issuer match, RFC 9207 iss, ID token checks,
// content types), through registration, the code flow with PKCE,
// userinfo, refresh, introspection, revocation and the error answers.
func TestOpenIDClientRelyingParty(t *testing.T) {
	dir := installClient(t, "openid-client", "package.json", "package-lock.json", "rp.mjs")
	tr := startTrio(t)
	runNode(t, dir, []string{
		"OAUTHTRIO_ISSUER=" + tr.Issuer(),
		"OAUTHTRIO_USERNAME=developer",
		"OAUTHTRIO_PASSWORD=test",
		"NODE_EXTRA_CA_CERTS=" + tr.CertFile,
	}, "node", "rp.mjs")
}

// installClient copies a client driver of testdata/clients to a temporary
// directory and installs its npm packages there, or skips the test when
// Node.js or the registry is missing.
func installClient(t *testing.T, name string, files ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("installs npm packages; skipped with -short")
	}
	dir := t.TempDir()
	err := peer.InstallNPM(t.Context(), filepath.Join("../../testdata/clients", name), dir, files...)
	if errors.Is(err, peer.ErrUnavailable) {
		if os.Getenv(requireClientsEnv) == "1" {
			t.Fatalf("%v (%s=1 requires the client to run)", err, requireClientsEnv)
		}
		t.Skipf("%s cannot run here, skipped (set %s=1 to make this a failure): %v", name, requireClientsEnv, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func startTrio(t *testing.T) *trio.Trio {
	t.Helper()
	cfg := trio.Config{Addr: "127.0.0.1:0", InMemory: true}
	// rp.mjs registers a client for my/scope.
	cfg.AuthServer.RegistrationPolicy = trio.OpenRegistration()
	tr, err := trio.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close(context.Background()) })
	return tr
}

// runNode runs a command of a client driver and fails the test, with its
// output, when it fails.
func runNode(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// pointAt rewrites the collection's https://webserver URLs to base. A
// request's url object (host, port and path split out) becomes its raw
// string, which Postman and newman accept as well.
func pointAt(t *testing.T, raw []byte, base string) []byte {
	t.Helper()
	raw = bytes.ReplaceAll(raw, []byte("https://webserver"), []byte(base))
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if req, ok := v["request"].(map[string]any); ok {
				if u, ok := req["url"].(map[string]any); ok {
					req["url"] = u["raw"]
				}
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// countRequests counts the requests of a Postman collection, folders
// included.
func countRequests(t *testing.T, raw []byte) int {
	t.Helper()
	type item struct {
		Request json.RawMessage `json:"request"`
		Item    []item          `json:"item"`
	}
	var c struct {
		Item []item `json:"item"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	var count func([]item) int
	count = func(items []item) int {
		n := 0
		for _, i := range items {
			if i.Request != nil {
				n++
			}
			n += count(i.Item)
		}
		return n
	}
	return count(c.Item)
}
