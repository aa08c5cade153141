package browser_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/internal/devtoolstest"
	"github.com/oauthtrio/oauthtrio/steps/browser"
)

// Connect drives a Chromium that runs already, reached by its DevTools
// websocket or its http://host:port endpoint: its pages open in that
// browser, and a self-signed issuer the run must accept is accepted there
// too.
func TestConnect(t *testing.T) {
	remote := devtoolstest.Start(t)
	site := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><body><p id="where">%s</p></body></html>`, r.URL.Path)
	}))
	t.Cleanup(site.Close)

	for _, endpoint := range []string{remote.WebSocket, remote.HTTP} {
		t.Run(strings.SplitN(endpoint, ":", 2)[0], func(t *testing.T) {
			b, err := browser.Connect(t.Context(), endpoint, browser.Options{IgnoreCertErrors: true, ExecPath: "/nonexistent/chromium"})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			s, cancel, err := b.NewSession(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer cancel()
			page := site.URL + "/from-" + strings.SplitN(endpoint, ":", 2)[0]
			if err := s.Navigate(page); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Text("#where"); err != nil || got != "/from-"+strings.SplitN(endpoint, ":", 2)[0] {
				t.Fatalf("the page says %q (%v)", got, err)
			}
			if !slices.Contains(remote.Visited(), page) {
				t.Errorf("the remote browser did not show %s; it showed %v", page, remote.Visited())
			}
		})
	}

	for _, bad := range []string{"127.0.0.1:9222", "file:///tmp/x", "ws://"} {
		if _, err := browser.Connect(t.Context(), bad, browser.Options{}); err == nil {
			t.Errorf("Connect(%q) accepted it", bad)
		}
	}
}
