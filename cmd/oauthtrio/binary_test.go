package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oauthtrio/oauthtrio/reference/front"
	"github.com/oauthtrio/oauthtrio/reference/triotest"
	"github.com/oauthtrio/oauthtrio/steps/browser"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	buildDir  string
)

// builtBinary builds cmd/oauthtrio once per test binary: signals and exit
// statuses are checked on the real process.
func builtBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "oauthtrio-bin-")
		if buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "oauthtrio")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building oauthtrio: %v", buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// check --chromium with a path that cannot run fails within seconds,
// saying so, instead of hanging on a browser that never started.
func TestCheckBrowserCannotStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference trio; skipped with -short")
	}
	cmd := exec.Command(builtBinary(t), "check", "--chromium", "/nonexistent/chromium", "--report", t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	code := runWithin(t, cmd, 60*time.Second)
	if code != 2 {
		t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "the browser could not start: ") {
		t.Errorf("stderr lacks the reason:\n%s", stderr.String())
	}
	t.Logf("failed after %s", time.Since(start).Round(time.Millisecond))
}

// On SIGINT or SIGTERM the run stops within 5 s, writes a partial report
// marked INTERRUPTED and exits 130; a second signal exits at once.
func TestCheckInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite against the reference trio; skipped with -short")
	}
	if _, err := browser.FindChromium(); err != nil {
		t.Skip("needs Chromium, so that scenarios are running when the signal comes")
	}
	tests := []struct {
		name    string
		signals []os.Signal
	}{
		{"SIGINT", []os.Signal{syscall.SIGINT}},
		{"SIGTERM", []os.Signal{syscall.SIGTERM}},
		{"second signal", []os.Signal{syscall.SIGINT, syscall.SIGINT}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(builtBinary(t), "check", "--report", dir, "--concurrency", "2")
			stdout, stderr := startPiped(t, cmd)
			var out bytes.Buffer
			r := bufio.NewReader(io.TeeReader(stdout, &out))
			// Wait for the first finished scenario: the run is under way.
			sawHeader := false
			for {
				line, err := r.ReadString('\n')
				if err != nil && !sawHeader {
					cmd.Process.Kill()
					t.Fatalf("no scenario header: %v\n%s\n%s", err, out.String(), stderr.String())
				}
				if strings.Contains(line, "scenarios,") {
					sawHeader = true
					break
				}
			}
			if _, err := r.ReadByte(); err != nil { // the first progress mark
				t.Fatalf("no progress: %v", err)
			}
			done := make(chan struct{})
			go func() { io.Copy(io.Discard, r); close(done) }()

			sent := time.Now()
			for i, sig := range tt.signals {
				if i > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
			}
			code := runWithin(t, cmd, 5*time.Second)
			took := time.Since(sent)
			<-done
			if code != exitInterrupted {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, out.String(), stderr.String())
			}
			t.Logf("stopped %s after the signal", took.Round(time.Millisecond))
			if len(tt.signals) > 1 {
				return // exits at once: no report promised
			}
			if !strings.Contains(out.String(), "Result: INTERRUPTED") {
				t.Errorf("the console does not say INTERRUPTED:\n%s", out.String())
			}
			for _, name := range []string{"report.html", "junit.xml", "cucumber.json"} {
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if !bytes.Contains(data, []byte("INTERRUPTED")) {
					t.Errorf("%s does not say INTERRUPTED", name)
				}
			}
		})
	}
}

// runWithin waits for a started (or not yet started) command and returns
// its exit status; it fails the test and kills the process after limit.
func runWithin(t *testing.T, cmd *exec.Cmd, limit time.Duration) int {
	t.Helper()
	if cmd.Process == nil {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatal(err)
	case <-time.After(limit):
		cmd.Process.Kill()
		<-waited
		t.Fatalf("still running after %s", limit)
	}
	return -1
}

// The built binary needs nothing from the repository (what go install
// leaves is all a user has): from an empty working directory, check
// --help prints its usage, serve starts with a fixtures file giving a
// user custom claims, releases them in the ID token and at UserInfo, and
// stops cleanly on SIGTERM, and a check with a tag selection runs the
// embedded features against the embedded reference.
func TestBinaryRunsAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs oauthtrio; skipped with -short")
	}
	bin := builtBinary(t)
	work := t.TempDir()
	command := func(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		// No per-user state of the machine's either.
		cmd.Env = append(os.Environ(), "HOME="+work, "XDG_STATE_HOME="+filepath.Join(work, "state"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		return cmd, &stdout, &stderr
	}

	t.Run("check --help", func(t *testing.T) {
		cmd, stdout, stderr := command("check", "--help")
		if code := runWithin(t, cmd, 30*time.Second); code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if !strings.Contains(stdout.String(), "oauthtrio check [flags]") {
			t.Errorf("no usage:\n%s", stdout)
		}
	})

	t.Run("serve", func(t *testing.T) {
		fixtures := filepath.Join(work, "users.yaml")
		if err := os.WriteFile(fixtures, []byte(customClaimsFixtures), 0o600); err != nil {
			t.Fatal(err)
		}
		state := filepath.Join(work, "serve-state")
		cmd, _, _ := command("serve", "--addr", "127.0.0.1:0", "--state", state, "--fixtures", fixtures)
		cmd.Stdout, cmd.Stderr = nil, nil
		stdout, stderr := startPiped(t, cmd)
		defer cmd.Process.Kill()
		base := readBanner(t, stdout, stderr)
		go io.Copy(io.Discard, stdout)

		pool, err := front.CertPool(filepath.Join(state, front.CertFileName))
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 15 * time.Second}
		id, info := signInWithClaims(t, hc, base+"/authserver/oauth2")
		for where, claims := range map[string]map[string]any{"ID token": id, "UserInfo": info} {
			if got, _ := json.Marshal(claims["groups"]); string(got) != `["admins","devs"]` {
				t.Errorf("%s: groups = %s, want [\"admins\",\"devs\"]; claims: %v", where, got, claims)
			}
		}

		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := runWithin(t, cmd, 30*time.Second); code != 0 {
			t.Errorf("serve exited %d after SIGTERM; stderr:\n%s", code, stderr)
		}
	})

	t.Run("check --tags", func(t *testing.T) {
		cmd, stdout, stderr := command("check", "--tags", "@needs:discovery", "--report", "reports", "--quiet")
		if code := runWithin(t, cmd, 2*time.Minute); code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout.String(), " 0 failed") || !strings.Contains(stdout.String(), "Result: PASSED") {
			t.Errorf("no passing summary:\n%s", stdout)
		}
		for _, name := range []string{"report.html", "junit.xml", "cucumber.json"} {
			if _, err := os.Stat(filepath.Join(work, "reports", name)); err != nil {
				t.Error(err)
			}
		}
	})
}

// customClaimsFixtures give alice custom claims, beside the two clients
// the trio's own parts sign in with.
const customClaimsFixtures = `
users:
  - username: alice
    password: wonderland
    claims:
      groups: [admins, devs]
clients:
  - client_id: my-app
    role: web_client
    client_secret: my-app-secret
    redirect_uris: ["http://127.0.0.1:9/callback"]
    grant_types: [authorization_code]
    response_types: [code]
    scopes: [openid, profile]
  - client_id: resserver
    role: resource_server
    client_secret: resserver-secret
    may_introspect: true
`

// readBanner reads serve's banner up to "Press Ctrl+C to stop." and
// returns the public URL it announces.
// startPiped starts cmd with its standard output on a pipe and its
// standard error in a buffer.
func startPiped(t *testing.T, cmd *exec.Cmd) (io.ReadCloser, *bytes.Buffer) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return stdout, &stderr
}

func readBanner(t *testing.T, stdout io.Reader, stderr *bytes.Buffer) string {
	t.Helper()
	var banner bytes.Buffer
	r := bufio.NewReader(io.TeeReader(stdout, &banner))
	base := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("serve stopped before it was ready: %v\nstdout:\n%s\nstderr:\n%s", err, banner.String(), stderr)
		}
		if rest, ok := strings.CutPrefix(line, "oauthtrio is serving on "); ok {
			base, _, _ = strings.Cut(rest, " ")
		}
		if strings.HasPrefix(line, "Press Ctrl+C to stop.") {
			break
		}
	}
	if base == "" {
		t.Fatalf("the banner names no URL:\n%s", banner.String())
	}
	return base
}

// signInWithClaims signs alice in to my-app at issuer (the code flow
// with PKCE) and returns the ID token's claims and UserInfo's.
func signInWithClaims(t *testing.T, hc *http.Client, issuer string) (id, userinfo map[string]any) {
	t.Helper()
	app := oauth2.Config{
		ClientID: "my-app", ClientSecret: "my-app-secret",
		RedirectURL: "http://127.0.0.1:9/callback", Scopes: []string{oidc.ScopeOpenID, "profile"},
	}
	id, userinfo, err := triotest.SignInClaims(t.Context(), hc, issuer, app, "alice", "wonderland")
	if err != nil {
		t.Fatal(err)
	}
	return id, userinfo
}
