// Package devtoolstest starts a Chromium that listens on a DevTools port,
// for the tests of code that drives a browser it did not start.
package devtoolstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"

	"github.com/oauthtrio/oauthtrio/steps/browser"
)

// Browser is a Chromium started by the test, watched over DevTools.
type Browser struct {
	// HTTP is its DevTools endpoint, http://127.0.0.1:PORT.
	HTTP string
	// WebSocket is its DevTools websocket, ws://127.0.0.1:PORT/devtools/browser/ID.
	WebSocket string

	mu      sync.Mutex
	visited []string
}

// Start starts Chromium with --remote-debugging-port=0 and a fresh
// profile, reads the port it chose from DevToolsActivePort in the profile,
// and watches the pages it opens from then on. The test is skipped where
// no Chromium is installed; Chromium stops with the test.
func Start(t *testing.T) *Browser {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium; skipped with -short")
	}
	exe, err := browser.FindChromium()
	if err != nil {
		t.Skip(err)
	}
	// A Chromium that exits before it listens (it happens on a loaded
	// machine) is started once more, as browser.Start does.
	var port, path string
	for attempt := 1; attempt <= 2; attempt++ {
		if port, path, err = launch(t, exe); err == nil {
			break
		}
		t.Logf("Chromium with a DevTools port, attempt %d: %v", attempt, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{HTTP: "http://127.0.0.1:" + port, WebSocket: "ws://127.0.0.1:" + port + path}
	b.watch(t)
	return b
}

// launch starts Chromium with a fresh profile and returns the DevTools port
// and websocket path it wrote; Chromium stops with the test.
func launch(t *testing.T, exe string) (port, path string, err error) {
	// Not t.TempDir: Chromium's helper processes may still be writing to
	// the profile for a moment after the browser is killed, and a failed
	// RemoveAll would fail the test.
	dir, err := os.MkdirTemp("", "devtoolstest-")
	if err != nil {
		return "", "", err
	}
	cmd := exec.Command(exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+dir, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank")
	// Its own process group, so that the cleanup stops the helpers too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		removeProfile(t, dir)
		return "", "", err
	}
	// done is closed once Chromium has exited; waitErr is then its status.
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		removeProfile(t, dir)
	})

	// Chromium writes the port and the websocket path once it listens.
	deadline := time.Now().Add(time.Minute)
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort")); err == nil {
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if len(lines) == 2 {
				return strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1]), nil
			}
		}
		select {
		case <-done:
			return "", "", fmt.Errorf("Chromium exited before it listened: %v", waitErr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", "", errors.New("Chromium wrote no DevToolsActivePort within a minute")
		}
	}
}

// watch records the URL of every page target the browser opens or moves.
func (b *Browser) watch(t *testing.T) {
	t.Helper()
	allocCtx, cancelAlloc := remote.NewAllocator(context.Background(), b.WebSocket)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("watching Chromium: %v", err)
	}
	record := func(info *target.Info) {
		if info != nil && info.Type == "page" && strings.HasPrefix(info.URL, "http") {
			b.mu.Lock()
			b.visited = append(b.visited, info.URL)
			b.mu.Unlock()
		}
	}
	if err := chromedp.ListenBrowser(ctx, func(ev any) {
		switch e := ev.(type) {
		case *target.EventTargetCreated:
			record(e.TargetInfo)
		case *target.EventTargetInfoChanged:
			record(e.TargetInfo)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(ctx, target.SetDiscoverTargets, target.SetDiscoverTargetsParams{Discover: true}); err != nil {
		t.Fatalf("watching Chromium's targets: %v", err)
	}
}

// Visited returns the http(s) URLs its pages have shown since Start.
func (b *Browser) Visited() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.visited)
}

// removeProfile removes Chromium's profile, trying again while processes
// that outlived the browser finish writing to it.
func removeProfile(t *testing.T, dir string) {
	var err error
	for range 50 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("leaving Chromium's profile %s: %v", dir, err)
}
