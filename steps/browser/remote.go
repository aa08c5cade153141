package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// CheckEndpoint tells whether endpoint can name a running browser's
// DevTools: ws:// or wss:// (the websocket, as Chromium prints it on
// start) or http:// or https:// (its DevTools HTTP endpoint, host:port).
func CheckEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https":
		return errors.New("want a DevTools endpoint: ws://host:port/devtools/browser/ID or http://host:port")
	case u.Host == "":
		return errors.New("no host:port in it")
	}
	return nil
}

// Connect drives a browser that runs already (a browser grid, chromium
// --remote-debugging-port=9222 on another host) instead of starting one.
// endpoint is its DevTools websocket, or the http://host:port of its
// DevTools endpoint, whose /json/version names the websocket. Every
// Session is a browser context of its own there, as with Start; Close
// closes what the run opened and disconnects, leaving the browser running.
//
// A running browser takes no command-line flags: ExecPath and ExtraFlags
// are not used, and certificates the run must accept (TrustSPKI,
// IgnoreCertErrors) are accepted by asking the browser over DevTools to
// ignore certificate errors.
func Connect(ctx context.Context, endpoint string, opts Options) (*Browser, error) {
	if err := CheckEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("browser: %s: %w", endpoint, err)
	}
	if err := opts.prepare(); err != nil {
		return nil, err
	}
	// As with Start, the contexts hang off Background: the connection
	// lives until Close, ctx only bounds connecting.
	allocCtx, allocCancel := remote.NewAllocator(context.Background(), endpoint)
	browserCtx, browserCancel := chromedp.NewContext(allocCtx)
	b := &Browser{opts: opts, allocCancel: allocCancel, browserCtx: browserCtx, browserCancel: browserCancel}

	started := make(chan error, 1)
	go func() {
		err := chromedp.Do(browserCtx)
		if err == nil && (len(opts.TrustSPKI) > 0 || opts.IgnoreCertErrors) {
			_, err = chromedp.CallBrowser(browserCtx, security.SetIgnoreCertificateErrors, security.SetIgnoreCertificateErrorsParams{Ignore: true})
		}
		started <- err
	}()
	var err error
	select {
	case err = <-started:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("browser: connecting to %s: %w", endpoint, err)
	}
	return b, nil
}
