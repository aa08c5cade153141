package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// pollInterval is how often page state is sampled while waiting. Local pages
// load in tens of milliseconds, so a short interval keeps flows fast.
const pollInterval = 50 * time.Millisecond

// Session is one isolated browser context (own cookies, own tab). A Session
// must be used from one goroutine at a time.
type Session struct {
	ctx          context.Context
	timeout      time.Duration
	artifactsDir string

	mu      sync.Mutex
	dialogs []string
}

// SetActionTimeout changes the bound of each following action.
func (s *Session) SetActionTimeout(d time.Duration) {
	if d > 0 {
		s.timeout = d
	}
}

// ActionTimeout returns the bound of each action.
func (s *Session) ActionTimeout() time.Duration { return s.timeout }

// actionCtx bounds one action. It derives from the tab context, which has
// already run once, so the deadline cannot take the tab down with it.
func (s *Session) actionCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, s.timeout)
}

// watchDialogs accepts JavaScript alerts and confirms, which would otherwise
// block the page (IRIS's login page alerts when a field is empty), and keeps
// their text for the report.
func (s *Session) watchDialogs() {
	events := chromedp.Events(s.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			s.mu.Lock()
			s.dialogs = append(s.dialogs, ev.Message)
			s.mu.Unlock()
			ctx, cancel := s.actionCtx()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			cancel()
		}
	}()
}

// Dialogs returns the messages of the JavaScript dialogs the pages opened.
func (s *Session) Dialogs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.dialogs...)
}

// Navigate starts loading url and returns once the navigation is under way.
// It does not wait for the load event: login pages that import remote fonts
// may never fire it offline. Poll for what should appear instead.
func (s *Session) Navigate(url string) error {
	ctx, cancel := s.actionCtx()
	defer cancel()
	res, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: url})
	if err != nil {
		return fmt.Errorf("browser: navigating to %s: %w", url, err)
	}
	if res.ErrorText != "" {
		return fmt.Errorf("browser: navigating to %s: %w", url, &chromedp.LoadError{ErrorText: res.ErrorText})
	}
	return nil
}

// CurrentURL returns the URL of the current history entry. Unlike
// document.location it still names the requested URL when Chromium shows its
// own error page (for a redirect to a port nobody listens on).
func (s *Session) CurrentURL() (string, error) {
	ctx, cancel := s.actionCtx()
	defer cancel()
	return s.currentURL(ctx)
}

func (s *Session) currentURL(ctx context.Context) (string, error) {
	h, err := chromedp.Call(ctx, page.GetNavigationHistory, cdp.Empty{})
	if err != nil {
		return "", fmt.Errorf("browser: reading the current URL: %w", err)
	}
	if h.CurrentIndex < 0 || int(h.CurrentIndex) >= len(h.Entries) {
		return "", errors.New("browser: reading the current URL: empty navigation history")
	}
	return h.Entries[h.CurrentIndex].URL, nil
}

// WaitForURLPrefix waits until the current URL starts with prefix and
// returns it. It is how a flow catches the redirect to the suite's listener.
func (s *Session) WaitForURLPrefix(prefix string) (string, error) {
	var got string
	err := s.poll(fmt.Sprintf("the browser to reach a URL starting with %s", prefix), func(ctx context.Context) (bool, error) {
		u, err := s.currentURL(ctx)
		if err != nil {
			return false, err
		}
		got = u
		return strings.HasPrefix(u, prefix), nil
	})
	if err != nil && got != "" {
		return got, fmt.Errorf("%w (last URL %s)", err, got)
	}
	return got, err
}

// poll calls check every pollInterval until it reports true or the action
// timeout passes. Errors are treated as transient (the page may be between
// documents) and reported only when time runs out.
func (s *Session) poll(what string, check func(ctx context.Context) (bool, error)) error {
	ctx, cancel := s.actionCtx()
	defer cancel()
	return pollUntil(ctx, what, s.timeout, check)
}

func pollUntil(ctx context.Context, what string, timeout time.Duration, check func(ctx context.Context) (bool, error)) error {
	var lastErr error
	for {
		// Each probe gets a short bound of its own, so one call stuck on a
		// document that is going away cannot eat the whole budget.
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := check(pctx)
		pcancel()
		if ok && err == nil {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("browser: timed out after %s waiting for %s", timeout, what)
			if timeout <= 0 {
				// The step's deadline had passed before this wait began.
				msg = fmt.Sprintf("browser: no time was left to wait for %s", what)
			}
			if lastErr != nil {
				return fmt.Errorf("%s: %w", msg, lastErr)
			}
			return errors.New(msg)
		case <-time.After(pollInterval):
		}
	}
}

// eval evaluates a script returning JSON-decodable T.
func eval[T any](ctx context.Context, script string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](script))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// queryScript returns a script that evaluates body with el bound to the
// first element matching selector, or yields "missing" when there is none.
// An invalid selector yields an "invalid selector" error text instead of
// throwing, so the caller can tell it from an absent element.
func queryScript(selector, body string) string {
	return `(() => { let el; try { el = document.querySelector(` + jsString(selector) + `); } catch (e) { return {err: "invalid selector: " + e.message}; }
if (!el) { return {missing: true}; }
return Object.assign({found: true}, (() => { ` + body + ` })()); })()`
}

// queryResult is what queryScript yields. Found tells an answer about the
// element from none at all: an evaluation that raced a navigation can come
// back empty, which must not read as an element with empty text.
type queryResult struct {
	Err     string `json:"err"`
	Missing bool   `json:"missing"`
	Found   bool   `json:"found"`
	Value   string `json:"value"`
}

// withElement waits for selector to match and runs body on it.
func (s *Session) withElement(what, selector, body string) (string, error) {
	var out string
	var permanent error
	err := s.poll(fmt.Sprintf("%q to %s", selector, what), func(ctx context.Context) (bool, error) {
		r, err := eval[queryResult](ctx, queryScript(selector, body))
		if err != nil {
			return false, err
		}
		if r.Err != "" {
			permanent = errors.New(r.Err)
			return true, nil
		}
		if r.Missing {
			return false, nil
		}
		if !r.Found {
			return false, errors.New("the page gave no answer about the element")
		}
		out = r.Value
		return true, nil
	})
	if permanent != nil {
		return "", fmt.Errorf("browser: %q: %w", selector, permanent)
	}
	return out, err
}

// Fill waits for the input matching selector, clears it and types value.
// Input.insertText fires the input events a person's typing would, which
// script-driven login forms listen to. A page that renders its form again
// after showing it replaces the field a person had started typing into;
// as a person would, Fill types again into the new field until one keeps
// the value.
func (s *Session) Fill(selector, value string) error {
	var permanent error
	err := s.poll(fmt.Sprintf("%q to appear and take the typed value", selector), func(ctx context.Context) (bool, error) {
		r, err := eval[queryResult](ctx, queryScript(selector,
			`el.scrollIntoView({block: "center"}); el.focus(); if ("value" in el) { el.value = ""; } return {value: ""};`))
		switch {
		case err != nil:
			return false, err
		case r.Err != "":
			permanent = errors.New(r.Err)
			return true, nil
		case r.Missing:
			return false, nil
		}
		if _, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: value}); err != nil {
			return false, fmt.Errorf("typing: %w", err)
		}
		got, err := eval[queryResult](ctx, queryScript(selector,
			`el.dispatchEvent(new Event("change", {bubbles: true})); return {value: String(el.value ?? "")};`))
		if err != nil {
			return false, fmt.Errorf("reading the value back: %w", err)
		}
		if !got.Found || got.Value != value {
			return false, errors.New("the field did not keep the typed value (the page replaced or reset it)")
		}
		return true, nil
	})
	if permanent != nil {
		return fmt.Errorf("browser: %q: %w", selector, permanent)
	}
	return err
}

// Click waits for the element matching selector and clicks it. The click is
// dispatched from script rather than as a mouse event at coordinates: it
// needs no layout, cannot hit an overlay, and returns at once even when it
// starts a navigation.
func (s *Session) Click(selector string) error {
	_, err := s.withElement("appear so it can be clicked", selector,
		`el.scrollIntoView({block: "center"}); setTimeout(() => el.click(), 0); return {value: ""};`)
	return err
}

// Exists reports whether an element matches selector now, without waiting.
func (s *Session) Exists(selector string) bool {
	ctx, cancel := s.actionCtx()
	defer cancel()
	r, err := eval[queryResult](ctx, queryScript(selector, `return {value: ""};`))
	return err == nil && r.Found
}

// WaitFor waits until an element matches selector.
func (s *Session) WaitFor(selector string) error {
	_, err := s.withElement("appear", selector, `return {value: ""};`)
	return err
}

// Text waits for the element matching selector and returns its visible text.
func (s *Session) Text(selector string) (string, error) {
	return s.withElement("appear so its text can be read", selector, `return {value: String(el.innerText ?? el.textContent ?? "")};`)
}

// HTML returns the current document's markup.
func (s *Session) HTML() (string, error) {
	ctx, cancel := s.actionCtx()
	defer cancel()
	h, err := eval[string](ctx, `document.documentElement ? document.documentElement.outerHTML : ""`)
	if err != nil {
		return "", fmt.Errorf("browser: reading the page HTML: %w", err)
	}
	return h, nil
}

// screenshotTimeout bounds a screenshot, which only illustrates a report:
// a page that has drawn nothing by then never will (the headless shell
// draws nothing for some refused answers, such as a plain-HTTP request to
// an HTTPS port), and a failing scenario should not wait the action
// timeout for it.
const screenshotTimeout = 10 * time.Second

// Screenshot captures the visible part of the page as PNG.
func (s *Session) Screenshot() ([]byte, error) {
	ctx, cancel := context.WithTimeout(s.ctx, min(s.timeout, screenshotTimeout))
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return nil, fmt.Errorf("browser: taking a screenshot: %w", err)
	}
	return png, nil
}

// Cookies returns every cookie of the session's browser context.
func (s *Session) Cookies() ([]*network.Cookie, error) {
	ctx, cancel := s.actionCtx()
	defer cancel()
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: chromedp.FromContext(s.ctx).BrowserContextID})
	if err != nil {
		return nil, fmt.Errorf("browser: reading cookies: %w", err)
	}
	return res.Cookies, nil
}

// SetCookies puts cookies, such as those Cookies returned earlier, into the
// session's browser context, replacing any of the same name, domain and
// path. Each lives at least another hour, so that a cookie the server has
// since told the browser to drop reaches the server again.
func (s *Session) SetCookies(cookies []*network.Cookie) error {
	params := make([]*network.CookieParam, 0, len(cookies))
	for _, c := range cookies {
		p := &network.CookieParam{
			Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
			Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite,
			Priority: c.Priority, SourceScheme: c.SourceScheme, SourcePort: c.SourcePort,
			PartitionKey: c.PartitionKey,
		}
		if !c.Session {
			p.Expires = cdp.TimeSinceEpoch(max(c.Expires, float64(time.Now().Add(time.Hour).Unix())))
		}
		params = append(params, p)
	}
	ctx, cancel := s.actionCtx()
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, storage.SetCookies, storage.SetCookiesParams{Cookies: params, BrowserContextID: chromedp.FromContext(s.ctx).BrowserContextID})
	if err != nil {
		return fmt.Errorf("browser: setting cookies: %w", err)
	}
	return nil
}

// ClearCookies deletes every cookie of the session's browser context, which
// ends any single-sign-on session the issuer keeps in a cookie.
func (s *Session) ClearCookies() error {
	ctx, cancel := s.actionCtx()
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, storage.ClearCookies, storage.ClearCookiesParams{BrowserContextID: chromedp.FromContext(s.ctx).BrowserContextID})
	if err != nil {
		return fmt.Errorf("browser: clearing cookies: %w", err)
	}
	return nil
}

// resetTimeout bounds the wipe of a used session.
const resetTimeout = 5 * time.Second

// reset wipes what a site could tell a used session by, so that it serves
// the next scenario as a new one would: the page (about:blank), the
// history, every cookie of the browser context, the site data (storage,
// IndexedDB, service workers, caches) of every origin the history shows,
// and the HTTP cache; then the action timeout and the dialog list.
func (s *Session) reset(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(s.ctx, resetTimeout)
	defer cancel()
	h, err := chromedp.Call(ctx, page.GetNavigationHistory, cdp.Empty{})
	if err != nil {
		return fmt.Errorf("browser: reading the history: %w", err)
	}
	origins := map[string]bool{}
	for _, e := range h.Entries {
		if o := webOrigin(e.URL); o != "" {
			origins[o] = true
		}
	}
	if err := s.wipeSessionStorage(ctx, slices.Sorted(maps.Keys(origins))); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: "about:blank"}); err != nil {
		return fmt.Errorf("browser: leaving the page: %w", err)
	}
	// Until about:blank has replaced the page, the history cannot be reset.
	err = pollUntil(ctx, "about:blank", resetTimeout, func(ctx context.Context) (bool, error) {
		if u, err := s.currentURL(ctx); err != nil || u != "about:blank" {
			return false, err
		}
		_, err := chromedp.Call(ctx, page.ResetNavigationHistory, cdp.Empty{})
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("browser: clearing the history: %w", err)
	}
	for o := range origins {
		if _, err := chromedp.Call(ctx, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{Origin: o, StorageTypes: "all"}); err != nil {
			return fmt.Errorf("browser: clearing the site data of %s: %w", o, err)
		}
	}
	if _, err := chromedp.CallBrowser(ctx, storage.ClearCookies, storage.ClearCookiesParams{BrowserContextID: chromedp.FromContext(s.ctx).BrowserContextID}); err != nil {
		return fmt.Errorf("browser: clearing cookies: %w", err)
	}
	if _, err := chromedp.Call(ctx, network.ClearBrowserCache, cdp.Empty{}); err != nil {
		return fmt.Errorf("browser: clearing the cache: %w", err)
	}
	s.timeout = timeout
	s.mu.Lock()
	s.dialogs = nil
	s.mu.Unlock()
	return nil
}

// wipePath is where wipeSessionStorage loads its page on each origin.
const wipePath = "/.oauthtrio-wipe-session-storage"

// wipeSessionStorage clears the session storage of each origin. It belongs
// to the tab, outlives cookies and site data, and only a document of its
// own origin can clear it. So the tab loads, on each origin, a page whose
// script does: Chromium's Fetch domain answers the request, which never
// reaches the site.
func (s *Session) wipeSessionStorage(ctx context.Context, origins []string) error {
	if len(origins) == 0 {
		return nil
	}
	listen, stop := context.WithCancel(ctx)
	defer stop()
	paused := chromedp.Events(listen, fetch.RequestPaused)
	pattern := []*fetch.RequestPattern{{URLPattern: "*" + wipePath, RequestStage: fetch.RequestStageRequest}}
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: pattern}); err != nil {
		return fmt.Errorf("browser: intercepting requests: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), resetTimeout)
		defer cancel()
		_, _ = chromedp.Call(dctx, fetch.Disable, cdp.Empty{})
	}()
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(listen, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID:       ev.RequestID,
				ResponseCode:    200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html"}, {Name: "Cache-Control", Value: "no-store"}},
				Body:            []byte(`<script>sessionStorage.clear()</script><p id="wiped"></p>`),
			})
		}
	}()
	for _, o := range origins {
		if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: o + wipePath}); err != nil {
			return fmt.Errorf("browser: clearing the session storage of %s: %w", o, err)
		}
		err := pollUntil(ctx, "the session storage of "+o+" to be cleared", resetTimeout, func(ctx context.Context) (bool, error) {
			return eval[bool](ctx, `location.href === `+jsString(o+wipePath)+` && document.getElementById("wiped") !== null`)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// webOrigin is the origin of an http or https URL, "" for any other.
func webOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// SaveArtifacts writes a PNG screenshot and the page HTML into the artifacts
// directory, named after name, and returns both paths. Either file may be
// missing when the page could not give it; the error says why.
func (s *Session) SaveArtifacts(name string) (screenshotPath, htmlPath string, err error) {
	if s.artifactsDir == "" {
		return "", "", errors.New("browser: no artifacts directory configured")
	}
	base := strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")
	if base == "" {
		base = "page"
	}
	if len(base) > 80 {
		base = base[:80]
	}
	base = filepath.Join(s.artifactsDir, base+"-"+time.Now().Format("150405.000000"))

	var errs []error
	if png, e := s.Screenshot(); e != nil {
		errs = append(errs, e)
	} else if e := os.WriteFile(base+".png", png, 0o644); e != nil {
		errs = append(errs, e)
	} else {
		screenshotPath = base + ".png"
	}
	if html, e := s.HTML(); e != nil {
		errs = append(errs, e)
	} else {
		u, _ := s.CurrentURL()
		doc := "<!-- " + strings.ReplaceAll(u, "--", "%2D%2D") + " -->\n" + html
		if e := os.WriteFile(base+".html", []byte(doc), 0o644); e != nil {
			errs = append(errs, e)
		} else {
			htmlPath = base + ".html"
		}
	}
	return screenshotPath, htmlPath, errors.Join(errs...)
}
