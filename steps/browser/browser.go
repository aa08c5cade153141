// Package browser drives a real headless Chromium through the login and
// consent pages of an authorization server, as a person would.
//
// One Browser is started per run; every scenario gets its own Session, an
// isolated browser context with its own cookie jar, so scenarios can run
// concurrently without seeing each other's single-sign-on sessions.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultActionTimeout bounds every single browser action unless
// Options.ActionTimeout says otherwise.
const DefaultActionTimeout = 15 * time.Second

// ErrNoChromium is returned when no Chromium executable can be found.
var ErrNoChromium = errors.New("browser: Chromium is not installed (looked for chromium-headless-shell, chrome-headless-shell, chromium, chromium-browser, google-chrome; apt-get install chromium-headless-shell)")

// Options configure the browser started for a run.
type Options struct {
	// ExecPath is the Chromium executable; empty means FindChromium.
	ExecPath string
	// ExtraFlags are added to the command line, each "name" or "name=value"
	// (with or without leading dashes).
	ExtraFlags []string
	// TrustSPKI lists base64 SHA-256 hashes of SubjectPublicKeyInfo (see
	// selfsigned.SPKIHash) whose certificates Chromium accepts although no CA vouches
	// for them: the narrowest way to trust a self-signed issuer.
	TrustSPKI []string
	// IgnoreCertErrors makes Chromium accept every certificate. Use it only
	// when the target configuration says the issuer is insecure.
	IgnoreCertErrors bool
	// ArtifactsDir receives screenshots and page HTML of failed steps.
	ArtifactsDir string
	// ActionTimeout bounds each action; zero means DefaultActionTimeout.
	ActionTimeout time.Duration
	// Warm is how many sessions are kept ready for NewSession (normally
	// the run's concurrency): opened ahead of use at the start, then each
	// session a scenario ends, wiped (Session.reset) and handed to the
	// next. A new tab costs Chromium a renderer process, about half a
	// CPU-second; a wiped one costs a few DevTools calls.
	Warm int
}

// Browser is one running Chromium process.
type Browser struct {
	opts        Options
	userDataDir string

	allocCancel   context.CancelFunc
	browserCtx    context.Context
	browserCancel context.CancelFunc

	// warm holds sessions ready for use; refills counts the openings and
	// wipes under way, which Close waits for; closing stops sessions from
	// going back to warm.
	warm    chan *warmSession
	refills sync.WaitGroup
	closing atomic.Bool
}

// warmSession is a session opened ahead of use, with what ends it.
type warmSession struct {
	s      *Session
	cancel context.CancelFunc
}

// FindChromium returns the path of a Chromium executable. Chromium's
// headless shell comes first: the same Blink and network stack without
// the desktop browser's layers, it runs the suite in about 60 % of the
// time and CPU. It draws no page of its own for an HTTP error without a
// body, where Chromium draws "HTTP ERROR 403"; a login profile that
// recognises such an error says so for both (fixtures/profiles). Then the
// real binary under /usr/lib/chromium, preferred over Debian's
// /usr/bin/chromium wrapper, which adds extension flags and noise to every
// start.
func FindChromium() (string, error) {
	for _, p := range chromiumPaths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Where FindChromium looks, in order.
var (
	chromiumPaths = []string{"/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium"}
	chromiumNames = []string{"chromium-headless-shell", "chrome-headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
)

// prepare fills in the defaults Start and Connect share and creates the
// artifacts directory.
func (o *Options) prepare() error {
	if o.ActionTimeout <= 0 {
		o.ActionTimeout = DefaultActionTimeout
	}
	if o.ArtifactsDir != "" {
		if err := os.MkdirAll(o.ArtifactsDir, 0o755); err != nil {
			return fmt.Errorf("browser: artifacts directory: %w", err)
		}
	}
	return nil
}

// Start launches Chromium. The process lives until Close, not until ctx
// ends: ctx only bounds the start itself.
func Start(ctx context.Context, opts Options) (*Browser, error) {
	if opts.ExecPath == "" {
		p, err := FindChromium()
		if err != nil {
			return nil, err
		}
		opts.ExecPath = p
	}
	// chromedp's allocator never reports a program that cannot be run: its
	// cancel then waits for a process that never started. Check first.
	if _, err := exec.LookPath(opts.ExecPath); err != nil {
		return nil, fmt.Errorf("browser: %w", err)
	}
	if err := opts.prepare(); err != nil {
		return nil, err
	}
	b, err := launch(ctx, opts)
	if err != nil && ctx.Err() == nil {
		// A start that fails on a loaded machine (the process exits
		// before it prints its DevTools address) usually succeeds on a
		// second try; a program that cannot run fails twice.
		b, err = launch(ctx, opts)
	}
	return b, err
}

// launch starts one Chromium process with a fresh profile.
func launch(ctx context.Context, opts Options) (*Browser, error) {
	// A fresh profile per run: no cookies, caches or settings leak from an
	// earlier run into this one.
	dir, err := os.MkdirTemp("", "oauthtrio-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browser: user data directory: %w", err)
	}

	allocOpts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(opts.ExecPath),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Without site isolation a flow's redirects between the issuer
		// (localhost) and the redirect listener (127.0.0.1), two sites,
		// stay in the tab's renderer process instead of starting a process
		// per site, which Chromium does largely one at a time. Cookies,
		// SameSite and CORS do not depend on it; it only guards against
		// side channels between sites. The list repeats chromedp's default,
		// which this flag replaces.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,IsolateOrigins,site-per-process"),
		// A navigation the suite starts (Page.navigate) to another site
		// would otherwise get a renderer process of its own, and starting
		// one costs Chromium about half a CPU-second; at the limit Chromium
		// reuses the browser context's process instead. Processes are never
		// shared between browser contexts, so sessions stay apart.
		chromedp.Flag("renderer-process-limit", "1"),
		chromedp.WindowSize(1280, 900),
	)
	if len(opts.TrustSPKI) > 0 {
		allocOpts = append(allocOpts, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(opts.TrustSPKI, ",")))
	}
	if opts.IgnoreCertErrors {
		allocOpts = append(allocOpts, chromedp.IgnoreCertErrors)
	}
	for _, f := range opts.ExtraFlags {
		name, value, hasValue := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if name == "" {
			continue
		}
		if hasValue {
			allocOpts = append(allocOpts, chromedp.Flag(name, value))
		} else {
			allocOpts = append(allocOpts, chromedp.Flag(name, true))
		}
	}

	// The allocator and browser contexts hang off Background so that the
	// process outlives the caller's start-up context.
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	browserCtx, browserCancel := chromedp.NewContext(allocCtx)
	b := &Browser{
		opts:          opts,
		userDataDir:   dir,
		allocCancel:   allocCancel,
		browserCtx:    browserCtx,
		browserCancel: browserCancel,
		warm:          make(chan *warmSession, max(opts.Warm, 0)),
	}

	// The first Do binds the initial tab to the context it runs under, so it
	// runs bare; ctx can only abandon the wait.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browserCtx) }()
	select {
	case err = <-started:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("browser: starting %s: %w", opts.ExecPath, err)
	}
	for range cap(b.warm) {
		b.refill()
	}
	return b, nil
}

// refill opens one session in the background for the warm pool. A failure
// leaves the pool short: NewSession then opens a session itself and
// reports the error there.
func (b *Browser) refill() {
	b.refills.Go(func() {
		s, cancel, err := b.openSession()
		if err != nil {
			return
		}
		select {
		case b.warm <- &warmSession{s: s, cancel: cancel}:
		default:
			cancel()
		}
	})
}

// Close stops Chromium and removes its temporary profile.
func (b *Browser) Close() error {
	if b == nil {
		return nil
	}
	b.closing.Store(true)
	b.closeWarm()
	done := make(chan struct{})
	go func() {
		// Cancel asks the browser to close gracefully; the deadline keeps a
		// wedged browser from blocking the end of the run.
		ctx, cancel := context.WithTimeout(b.browserCtx, 5*time.Second)
		defer cancel()
		_ = chromedp.Cancel(ctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(6 * time.Second):
	}
	// The cancels wait for the process to exit; a process that never
	// started or will not stop must not hold up the end of the run.
	stopped := make(chan struct{})
	go func() {
		b.browserCancel()
		b.allocCancel()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(3 * time.Second):
	}
	return os.RemoveAll(b.userDataDir)
}

// closeWarm ends the sessions of the warm pool, those still being opened
// included, while the browser still answers.
func (b *Browser) closeWarm() {
	done := make(chan struct{})
	go func() {
		b.refills.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	for {
		select {
		case w := <-b.warm:
			w.cancel()
		default:
			return
		}
	}
}

// NewSession returns an isolated browser context with one tab, in the
// state of a new one (no cookies, no site data, no history), from the warm
// pool when one is ready. The returned func ends the session: it goes back
// to the pool wiped, or is closed. When ctx is done first, the session is
// closed, as its tab may be in the middle of something.
func (b *Browser) NewSession(ctx context.Context) (*Session, context.CancelFunc, error) {
	var s *Session
	var tabCancel context.CancelFunc
	select {
	case w := <-b.warm:
		s, tabCancel = w.s, w.cancel
	default:
		// The first Do, which creates the context, must run without a
		// deadline (see openSession); ctx can only abandon the wait.
		type opened struct {
			s      *Session
			cancel context.CancelFunc
			err    error
		}
		ch := make(chan opened, 1)
		go func() {
			s, cancel, err := b.openSession()
			ch <- opened{s, cancel, err}
		}()
		select {
		case o := <-ch:
			if o.err != nil {
				return nil, nil, o.err
			}
			s, tabCancel = o.s, o.cancel
		case <-ctx.Done():
			go func() {
				if o := <-ch; o.err == nil {
					o.cancel()
				}
			}()
			return nil, nil, fmt.Errorf("browser: opening a new browser context: %w", ctx.Err())
		}
	}
	stop := context.AfterFunc(ctx, tabCancel)
	var once sync.Once
	return s, func() {
		once.Do(func() {
			if stop() {
				b.recycle(s, tabCancel)
			}
		})
	}, nil
}

// recycle wipes a session a scenario has ended, in the background, and puts
// it back in the warm pool; a session that cannot be wiped, or finds the
// pool full or the browser closing, is closed.
func (b *Browser) recycle(s *Session, cancel context.CancelFunc) {
	if b.closing.Load() {
		cancel()
		return
	}
	b.refills.Go(func() {
		if b.closing.Load() || s.reset(b.opts.ActionTimeout) != nil {
			cancel()
			return
		}
		select {
		case b.warm <- &warmSession{s: s, cancel: cancel}:
		default:
			cancel()
		}
	})
}

// unusedDomains are the DevTools domains chromedp enables on every tab that
// a Session never reads: it drives pages with Runtime.evaluate and Page
// commands alone. Left on, every request, DOM mutation and style sheet of
// every tab is serialised into events that Chromium builds and the run
// decodes, for nothing.
var unusedDomains = []string{"CSS.disable", "DOM.disable", "Network.disable", "Log.disable"}

// openSession creates a browser context with one tab.
func (b *Browser) openSession() (*Session, context.CancelFunc, error) {
	tabCtx, tabCancel := chromedp.NewContext(b.browserCtx, chromedp.WithNewBrowserContext())
	// The first Do creates the browser context and the tab. It must run
	// without a deadline: a tab bound to a timed-out context would die with
	// it and later queries would wait on a blank target for ever.
	if err := chromedp.Do(tabCtx); err != nil {
		tabCancel()
		return nil, nil, fmt.Errorf("browser: opening a new browser context: %w", err)
	}
	t := chromedp.FromContext(tabCtx).Target
	for _, m := range unusedDomains {
		if err := t.Call(tabCtx, m, nil, nil); err != nil {
			tabCancel()
			return nil, nil, fmt.Errorf("browser: %s: %w", m, err)
		}
	}
	s := &Session{
		ctx:          tabCtx,
		timeout:      b.opts.ActionTimeout,
		artifactsDir: b.opts.ArtifactsDir,
	}
	s.watchDialogs()
	return s, tabCancel, nil
}
