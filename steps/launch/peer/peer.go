// Package peer runs a third-party provider as a local process, so that the
// suite can be checked against providers other than its own reference: it
// installs the provider's npm packages from a lockfile, starts it on a
// loopback port, waits for its discovery document and stops it again.
package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// ErrUnavailable means the machine cannot run the peer: a tool is missing
// or the package registry cannot be reached. Callers usually skip then,
// unless peers are required.
var ErrUnavailable = errors.New("peer unavailable")

// npmNetworkError recognises npm's reports of an unreachable registry, as
// opposed to a broken lockfile, which is the project's own fault.
var npmNetworkError = regexp.MustCompile(`\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT)\b`)

// InstallNPM copies the named files of the package in src (package.json
// and package-lock.json at least) to dst and runs "npm ci" there. The
// copy keeps node_modules out of the source tree and lets runs overlap.
func InstallNPM(ctx context.Context, src, dst string, files ...string) error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s is not installed (apt-get install -y nodejs npm)", ErrUnavailable, tool)
		}
	}
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			return err
		}
	}
	// --prefer-offline takes what npm's cache holds without asking the
	// registry again; the lockfile's integrity hashes still pin every byte.
	cmd := exec.CommandContext(ctx, "npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dst
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	if npmNetworkError.Match(out) {
		return fmt.Errorf("%w: npm ci cannot reach the registry: %v\n%s", ErrUnavailable, err, out)
	}
	return fmt.Errorf("npm ci in %s: %v\n%s", dst, err, out)
}

// Process is a started peer.
type Process struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // the exit status, set before done is closed
}

// Start runs name with args in dir, with env added to the environment, in
// a process group of its own so that Stop also ends whatever it spawned.
func Start(dir string, env []string, name string, args ...string) (*Process, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return nil, err
	}
	p := &Process{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Output is what the process has printed so far, stdout and stderr mixed.
func (p *Process) Output() string { return p.out.String() }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	if exited, _ := p.Exited(); exited {
		return
	}
	signalGroup(p.cmd, false)
	select {
	case <-p.done:
	case <-time.After(grace):
		signalGroup(p.cmd, true)
		<-p.done
	}
}

// WaitForDiscovery polls the issuer's OpenID discovery document every
// interval until it answers 200, the process exits, or limit passes. The
// polls go through client, which for an HTTPS issuer must trust its
// certificate; nil means a plain client.
func (p *Process) WaitForDiscovery(ctx context.Context, client *http.Client, issuer string, interval, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	url := trimSlash(issuer) + "/.well-known/openid-configuration"
	if client == nil {
		client = &http.Client{Timeout: interval * 10}
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		select {
		case <-p.done:
			return fmt.Errorf("the process exited before serving %s: %v", url, p.err)
		case <-ctx.Done():
			return fmt.Errorf("no discovery document at %s within %s: %v", url, limit, last)
		case <-tick.C:
		}
	}
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// FreePorts returns n distinct loopback ports that were free a moment
// ago. All n listeners are held until every port is chosen, so the
// system cannot hand out the same port twice.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// PortFree reports whether a loopback port can be listened on.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// lockedBuffer collects a process's output, written by exec's copying
// goroutines and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
