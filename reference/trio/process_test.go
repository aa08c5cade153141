package trio_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/reference/front"
	"github.com/oauthtrio/oauthtrio/reference/store"
)

// The fixtures' web client, which the subprocess tests drive.
const (
	appClientID     = "client-app"
	appClientSecret = "client-app-secret"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// oauthtrioBinary builds cmd/oauthtrio once per test run.
func oauthtrioBinary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		dir, err := os.MkdirTemp("", "oauthtrio-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "oauthtrio")
		out, err := exec.Command(gobin, "build", "-o", binaryPath, "github.com/oauthtrio/oauthtrio/cmd/oauthtrio").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binaryErr)
	return binaryPath
}

// serveProcess is `oauthtrio serve` running as a child process.
type serveProcess struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	exited chan struct{}
	err    error // once exited is closed
}

func (p *serveProcess) wait() error {
	<-p.exited
	return p.err
}

func startServe(t testing.TB, stateDir, addr string) *serveProcess {
	t.Helper()
	cmd := exec.Command(oauthtrioBinary(t), "serve", "-addr", addr, "-state", stateDir)
	p := &serveProcess{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stdout = io.Discard
	cmd.Stderr = &lockedWriter{w: p.stderr}
	require.NoError(t, cmd.Start())
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// peer is a client of a trio running on 127.0.0.1:port under its
// default public URL, https://localhost:port.
type peer struct {
	base string
	http *http.Client
}

func newPeer(t testing.TB, stateDir, addr string) *peer {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	tr := &http.Transport{
		// The certificate is read lazily: the server writes it at start.
		DialTLSContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			pool, err := front.CertPool(filepath.Join(stateDir, front.CertFileName))
			if err != nil {
				return nil, err
			}
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(conn, &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				conn.Close()
				return nil, err
			}
			return tc, nil
		},
		MaxIdleConnsPerHost: 64,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &peer{base: "https://localhost:" + port, http: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
}

// waitReady waits until the server answers discovery.
func (p *peer) waitReady(t testing.TB, proc *serveProcess) {
	t.Helper()
	require.Eventually(t, func() bool {
		select {
		case <-proc.exited:
			t.Fatalf("serve exited: %v\n%s", proc.err, proc.stderr)
		default:
		}
		resp, err := p.http.Get(p.base + "/authserver/oauth2/.well-known/openid-configuration")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)
}

// tokens are what a client holds.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func formFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(body, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// flow runs the authorization code flow with PKCE for the web client as
// the developer, in a fresh browser, and redeems the code.
func (p *peer) flow(ctx context.Context) (tokens, error) {
	jar, _ := cookiejar.New(nil)
	browser := *p.http
	browser.Jar = jar
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	redirect := p.base + "/client/application/callback"
	verifier := randomString() + randomString() // RFC 7636 §4.1: 43 characters or more
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {appClientID}, "redirect_uri": {redirect},
		"scope": {"openid offline_access my/scope"}, "state": {randomString()}, "nonce": {randomString()},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	send := func(method, target string, form url.Values) (*http.Response, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			return nil, "", err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	issuer := p.base + "/authserver/oauth2"
	resp, body, err := send(http.MethodGet, issuer+"/authorize?"+q.Encode(), nil)
	for step := 0; err == nil && resp.StatusCode == http.StatusOK && step < 3; step++ {
		switch {
		case strings.Contains(body, `id="login-form"`):
			f := formFields(body)
			f.Set("username", developer)
			f.Set("password", developerPassword)
			resp, body, err = send(http.MethodPost, issuer+"/authorize/login", f)
		case strings.Contains(body, `id="consent-form"`):
			f := formFields(body)
			f.Set("decision", "approve")
			resp, body, err = send(http.MethodPost, issuer+"/authorize/consent", f)
		default:
			return tokens{}, fmt.Errorf("unexpected page: %.300s", body)
		}
	}
	if err != nil {
		return tokens{}, err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return tokens{}, fmt.Errorf("no code: status %d, location %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return p.token(ctx, url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	})
}

// errRefused is a definite answer that is not a token.
var errRefused = errors.New("refused")

func (p *peer) token(ctx context.Context, form url.Values) (tokens, error) {
	status, body, err := p.post(ctx, "token", appClientID, appClientSecret, form)
	if err != nil {
		return tokens{}, err
	}
	if status != http.StatusOK {
		return tokens{}, fmt.Errorf("%w: token endpoint %d: %s", errRefused, status, body)
	}
	var tok tokens
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return tokens{}, fmt.Errorf("token response %s: %v", body, err)
	}
	return tok, nil
}

func (p *peer) refresh(ctx context.Context, rt string) (tokens, error) {
	return p.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func (p *peer) post(ctx context.Context, endpoint, id, secret string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/authserver/oauth2/"+endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// active introspects a token as the resource server.
func (p *peer) active(ctx context.Context, token string) (bool, error) {
	status, body, err := p.post(ctx, "introspection", "resserver", "resserver-secret", url.Values{"token": {token}})
	if err != nil {
		return false, err
	}
	var r struct {
		Active bool `json:"active"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &r) != nil {
		return false, fmt.Errorf("introspection %d: %s", status, body)
	}
	return r.Active, nil
}

func (p *peer) keyIDs(t testing.TB) []string {
	t.Helper()
	resp, err := p.http.Get(p.base + "/authserver/oauth2/jwks")
	require.NoError(t, err)
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&set))
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KID)
	}
	return out
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomDuration(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(randomInt(int(hi-lo)))
}

func randomInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

// checkDatabase opens the state's database the way the server does and
// runs SQLite's integrity check.
func checkDatabase(t testing.TB, stateDir string) []string {
	t.Helper()
	path := filepath.Join(stateDir, "oauthtrio.db")
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	var integrity string
	require.NoError(t, db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity))
	require.NoError(t, db.Close())
	require.Equal(t, "ok", integrity, "PRAGMA integrity_check")
	st, err := store.Open(path, func() fosite.Session { return &fosite.DefaultSession{} })
	require.NoError(t, err)
	defer st.Close()
	keys, err := st.SigningKeys(context.Background())
	require.NoError(t, err)
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// TestCrashSafety runs authorization code flows and refreshes under
// concurrent load, kills the server with SIGKILL at a random moment,
// restarts it on the same state, and checks that every token the clients
// hold behaves as before: access tokens active, refresh tokens usable, the
// same keys, a sound database. A request cut off by the kill leaves its
// client unsure which token is current; such clients are left out.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary; skipped with -short")
	}
	const rounds, workers = 3, 6
	stateDir := privateDir(t)
	addr := freeAddr(t)
	p := newPeer(t, stateDir, addr)

	var held []tokens // tokens from answers the clients received
	var keys []string
	for round := range rounds {
		proc := startServe(t, stateDir, addr)
		p.waitReady(t, proc)
		ctx := context.Background()
		if round == 0 {
			keys = p.keyIDs(t)
		}
		require.Equal(t, keys, p.keyIDs(t), "round %d: the published keys changed", round)

		// Everything held before the crash behaves as before it.
		for i, tok := range held {
			ok, err := p.active(ctx, tok.AccessToken)
			require.NoError(t, err)
			assert.Truef(t, ok, "round %d: access token %d is no longer active", round, i)
			held[i], err = p.refresh(ctx, tok.RefreshToken)
			require.NoErrorf(t, err, "round %d: refresh token %d", round, i)
		}

		// Load, then kill -9 at a random moment.
		loadCtx, stopLoad := context.WithCancel(ctx)
		var mu sync.Mutex
		var wg sync.WaitGroup
		var loadErrs []error
		var answered atomic.Int64
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []tokens
				defer func() {
					mu.Lock()
					held = append(held, mine...)
					mu.Unlock()
				}()
				for i := 0; loadCtx.Err() == nil; i++ {
					var tok tokens
					var err error
					refreshing := w%2 == 1 && len(mine) > 0
					if refreshing {
						tok, err = p.refresh(loadCtx, mine[len(mine)-1].RefreshToken)
					} else {
						tok, err = p.flow(loadCtx)
					}
					if err == nil {
						answered.Add(1)
					}
					switch {
					case err == nil && refreshing:
						mine[len(mine)-1] = tok
					case err == nil:
						mine = append(mine, tok)
					case errors.Is(err, errRefused):
						mu.Lock()
						loadErrs = append(loadErrs, err)
						mu.Unlock()
						return
					default:
						// Cut off by the kill: the answer, if any, is lost.
						if refreshing {
							mine = mine[:len(mine)-1]
						}
						return
					}
				}
			}()
		}
		// Kill at a random moment once the load is under way: after a
		// random number of answered requests, and a random pause.
		target := int64(workers + randomInt(2*workers))
		require.Eventually(t, func() bool { return answered.Load() >= target }, 2*time.Minute, 10*time.Millisecond,
			"round %d: the load got no answers", round)
		time.Sleep(randomDuration(0, 300*time.Millisecond))
		require.NoError(t, proc.cmd.Process.Signal(syscall.SIGKILL))
		_ = proc.wait()
		stopLoad()
		wg.Wait()
		require.Empty(t, loadErrs, "round %d: the server refused requests under load", round)
		require.Equal(t, keys, checkDatabase(t, stateDir), "round %d: stored keys", round)
		t.Logf("round %d: clients hold %d grants", round, len(held))
	}
	require.NotEmpty(t, held, "the load produced no grants: the test would test nothing")

	// A last start checks the final state, then a graceful stop.
	proc := startServe(t, stateDir, addr)
	p.waitReady(t, proc)
	for i, tok := range held {
		ok, err := p.active(context.Background(), tok.AccessToken)
		require.NoError(t, err)
		assert.Truef(t, ok, "access token %d after the last crash", i)
		_, err = p.refresh(context.Background(), tok.RefreshToken)
		assert.NoErrorf(t, err, "refresh token %d after the last crash", i)
	}
	require.NoError(t, proc.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, proc.wait(), "graceful stop: %s", proc.stderr)
	checkDatabase(t, stateDir)
}

// TestSecondServeOnOneState: a second server on the same state directory
// exits with status 2 naming the first one's PID, and leaves its state
// alone.
func TestSecondServeOnOneState(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server binary; skipped with -short")
	}
	stateDir := privateDir(t)
	addr := freeAddr(t)
	first := startServe(t, stateDir, addr)
	newPeer(t, stateDir, addr).waitReady(t, first)

	second := startServe(t, stateDir, freeAddr(t))
	select {
	case <-second.exited:
		var exit *exec.ExitError
		require.ErrorAs(t, second.err, &exit)
		assert.Equal(t, 2, exit.ExitCode())
		assert.Contains(t, second.stderr.String(), fmt.Sprintf("in use by process %d", first.cmd.Process.Pid))
	case <-time.After(30 * time.Second):
		t.Fatal("the second server did not exit")
	}
}
