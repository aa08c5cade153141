package main

import (
	"bytes"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Usage errors exit 2 with a message naming what the user typed; -h exits
// 0 with a usage text on stdout.
func TestUsage(t *testing.T) {
	// serve takes these as flag defaults; the cases need them unset.
	t.Setenv("OAUTHTRIO_INITIAL_ACCESS_TOKEN", "")
	t.Setenv("OAUTHTRIO_CLIENT_SECRET", "")
	tests := []struct {
		args         []string
		code         int
		stdout       []string
		stderr       []string
		stderrAbsent []string
	}{
		{args: []string{"-h"}, stdout: []string{"Usage:", "oauthtrio check", "oauthtrio version"}},
		{args: []string{"serve", "-h"}, stdout: []string{"oauthtrio serve: run the reference trio", "Flags:", "-signing-alg", "Examples:"}},
		{args: []string{"check", "--help"}, stdout: []string{"oauthtrio check: run the conformance suite", "Flags:", "-name", "Examples:", "130"}},
		{args: []string{"rotate-key", "-h"}, stdout: []string{"oauthtrio rotate-key: add a new signing key", "Flags:", "-keep-previous", "Examples:"}},
		{args: []string{"version"}, stdout: []string{"oauthtrio "}},
		{args: []string{"--version"}, stdout: []string{"oauthtrio "}},
		{args: nil, code: 2, stderr: []string{"Usage:"}},
		{args: []string{"chek"}, code: 2, stderr: []string{`unknown command "chek"`, "did you mean check?"}},
		{args: []string{"serve", "--signing-alg", "HS256"}, code: 2, stderr: []string{"--signing-alg HS256: want one of RS256, PS256, ES256"}},
		{args: []string{"rotate-key", "--signing-alg", "HS256"}, code: 2, stderr: []string{"--signing-alg HS256"}},
		{args: []string{"serve", "--adr", ":1"}, code: 2, stderr: []string{"did you mean --addr?", "oauthtrio serve -h"}},
		{args: []string{"serve", "--registration", "tokn"}, code: 2, stderr: []string{"--registration tokn: want one of open, token, off"}},
		{
			args: []string{"serve", "--registration", "token"}, code: 2,
			stderr:       []string{"--initial-access-token", "OAUTHTRIO_INITIAL_ACCESS_TOKEN"},
			stderrAbsent: []string{"InitialAccessToken"},
		},
		{args: []string{"serve", "--client-issuer", "https://idp.example.org", "--client-id", "web"}, code: 2, stderr: []string{"--client-secret", "OAUTHTRIO_CLIENT_SECRET"}},
		{args: []string{"serve", "--cert", "x.pem"}, code: 2, stderr: []string{"--cert and --key go together"}},
		{args: []string{"serve", "extra"}, code: 2, stderr: []string{`unexpected argument "extra"`}},
		{args: []string{"check", "--concurrency", "0"}, code: 2, stderr: []string{"--concurrency 0"}},
		{args: []string{"check", "--nmae", "x"}, code: 2, stderr: []string{"did you mean --name?"}},
		{args: []string{"check", "--shard", "3/2"}, code: 2, stderr: []string{`--shard "3/2": want K/N with 1 ≤ K ≤ N`}},
		{args: []string{"check", "--shard-durations", "reports"}, code: 2, stderr: []string{"--shard-durations reports: it balances --shard"}},
		{args: []string{"check", "--shard", "1/2", "--shard-durations", "no-such-dir"}, code: 2, stderr: []string{"--shard-durations: open no-such-dir"}},
		{args: []string{"check", "--browser-url", "localhost:9222"}, code: 2, stderr: []string{"--browser-url localhost:9222: want a DevTools endpoint"}},
		{args: []string{"report"}, code: 2, stderr: []string{"want a subcommand: merge"}},
		{args: []string{"report", "merge", "-h"}, stdout: []string{"oauthtrio report merge: merge the reports", "-out", "Examples:"}},
		{args: []string{"report", "merge"}, code: 2, stderr: []string{"no report directory to merge"}},
		{args: []string{"report", "merge", "no-such-dir"}, code: 2, stderr: []string{"no-such-dir: no results.json"}},
		{args: []string{"check", "--target", "iris-containr"}, code: 2, stderr: []string{`unknown --target "iris-containr"`, "did you mean iris-container?"}},
		{
			args: []string{"check", "--issuer", "https://idp.example.org/realms/x/.well-known/openid-configuration"}, code: 2,
			stderr: []string{"pass the issuer, not its discovery document: --issuer https://idp.example.org/realms/x"},
		},
		{
			args: []string{"check", "--issuer", "https://idp.example.org/.well-known/oauth-authorization-server/tenant"}, code: 2,
			stderr: []string{"pass the issuer, not its discovery document: --issuer https://idp.example.org/tenant"},
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			for _, bad := range tt.stderrAbsent {
				if strings.Contains(stderr.String(), bad) {
					t.Errorf("stderr names %q:\n%s", bad, stderr.String())
				}
			}
		})
	}
}

// The common set-up mistakes get a hint that says what to do.
func TestCheckSetupHints(t *testing.T) {
	tlsServer := httptest.NewTLSServer(nil)
	t.Cleanup(tlsServer.Close)
	// A listener that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	slowConfig := filepath.Join(t.TempDir(), "target.yaml")
	if err := os.WriteFile(slowConfig, []byte("issuer: http://"+silent.Addr().String()+"\ntimeouts:\n  http: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"http issuer on an HTTPS server", []string{"--issuer", "http://" + tlsServer.Listener.Addr().String()}, "this server speaks HTTPS"},
		{"a host that never answers", []string{"--config", slowConfig}, "no answer within timeouts.http = 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := check(append(tt.args, "--report", t.TempDir()), &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}

// Scenarios are chosen by name and by FILE:LINE, the user's own features
// run with the shipped steps, and the selection's size is printed first.
func TestCheckSelection(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scenarios against the reference trio; skipped with -short")
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"by name", []string{"--name", "names the issuer it was fetched for"}, []string{"1 selected", "1 passed"}},
		{"by line", []string{"features/discovery.feature:8"}, []string{"1 selected (features/discovery.feature:8)", "1 passed"}},
		{"the user's features", []string{"--features", "../../testdata/my-features", "--name", "Our issuer publishes its keys"}, []string{"1 selected", "1 passed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := check(append(tt.args, "--report", t.TempDir()), &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			for _, want := range tt.want {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}

// The README's CLI sections name every flag that -h lists.
func TestReadmeMatchesHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"check", "serve"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{cmd, "-h"}, &stdout, &stderr); code != 0 {
			t.Fatalf("%s -h: exit %d", cmd, code)
		}
		n := 0
		for _, line := range strings.Split(stdout.String(), "\n") {
			name, ok := strings.CutPrefix(line, "  -")
			if !ok {
				continue
			}
			name = strings.Fields(name)[0]
			n++
			if !bytes.Contains(readme, []byte("--"+name)) && !bytes.Contains(readme, []byte("`-"+name+"`")) {
				t.Errorf("README does not mention oauthtrio %s --%s", cmd, name)
			}
		}
		if n < 5 {
			t.Errorf("%s -h lists %d flags; the test read nothing", cmd, n)
		}
	}
}
