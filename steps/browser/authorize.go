package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// Errors an authorization through the browser can end with. Test them with
// errors.Is; the wrapping error says what the page showed.
var (
	// ErrLoginFailed: the provider refused the credentials.
	ErrLoginFailed = errors.New("the login was refused")
	// ErrErrorPage: the provider showed its error page instead of redirecting.
	ErrErrorPage = errors.New("the provider showed an error page")
	// ErrUserInteraction: an unattended authorization reached a page that
	// asks the user for something.
	ErrUserInteraction = errors.New("the provider asked the user to interact")
	// ErrNoDenySelector: the profile cannot deny consent.
	ErrNoDenySelector = errors.New("the login profile has no consent.deny selector")
)

// PageKind is what the browser is showing, as a profile reads it.
type PageKind int

// The pages of an authorization.
const (
	PageUnknown PageKind = iota
	PageLogin
	PageConsent
	PageErrorPage
	PageRedirected
)

func (k PageKind) String() string {
	switch k {
	case PageLogin:
		return "login page"
	case PageConsent:
		return "consent page"
	case PageErrorPage:
		return "error page"
	case PageRedirected:
		return "redirect target"
	}
	return "unrecognised page"
}

// pageState is one sample of the page.
type pageState struct {
	URL     string          `json:"-"`
	Present map[string]bool `json:"present"`
	Invalid []string        `json:"invalid"`
	Text    string          `json:"text"`
	// Mark is the number sampleMark left on the document; 0 on a document
	// loaded since, which is how a navigation is told from a slow page.
	Mark int `json:"mark"`
	// Parsing is set while the document is still being parsed, when an
	// unrecognised page may just be incomplete.
	Parsing bool `json:"parsing"`
}

const sampleScript = `((sels) => {
const present = {}, invalid = [];
for (const s of sels) { try { present[s] = document.querySelector(s) !== null; } catch (e) { invalid.push(s); } }
const text = document.body ? String(document.body.innerText || "") : "";
return {present, invalid, text: text.slice(0, 20000), mark: window.__oauthtrioMark || 0, parsing: document.readyState === "loading"};
})(%s)`

// sample reads the URL and which of selectors are present. The URL comes
// from the navigation history, so it is known even when the page cannot run
// script (Chromium's own error page for an unreachable redirect target).
func (s *Session) sample(ctx context.Context, selectors []string) (pageState, error) {
	u, err := s.currentURL(ctx)
	if err != nil {
		return pageState{}, err
	}
	sels, _ := json.Marshal(selectors)
	st, err := eval[pageState](ctx, fmt.Sprintf(sampleScript, sels))
	st.URL = u
	if err != nil {
		// The URL alone still answers "did it redirect?".
		return st, err
	}
	if len(st.Invalid) > 0 {
		return st, fmt.Errorf("browser: invalid CSS selector(s) %s", strings.Join(st.Invalid, ", "))
	}
	return st, nil
}

// mark tags the current document so a later sample can tell whether a new
// one has replaced it.
func (s *Session) mark(ctx context.Context, n int) error {
	_, err := eval[int](ctx, fmt.Sprintf("window.__oauthtrioMark = %d", n))
	return err
}

func (p *Profile) selectors() []string {
	set := map[string]bool{}
	for _, v := range []string{p.LoginMarker(), p.ConsentMarker(), p.LoginError, p.ErrorPage.Selector, p.Detect.Selector} {
		if v != "" {
			set[v] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// classify reads a sample with a profile. The login and consent forms are
// checked before the error page so that an error page pattern matching some
// text of a login page cannot hide the login.
func (p *Profile) classify(st pageState, arrived Arrived) PageKind {
	if arrived.at(st.URL) {
		return PageRedirected
	}
	if st.Present[p.LoginMarker()] && (p.re.loginURL == nil || p.re.loginURL.MatchString(st.URL)) {
		return PageLogin
	}
	if m := p.ConsentMarker(); m != "" && st.Present[m] && (p.re.consentURL == nil || p.re.consentURL.MatchString(st.URL)) {
		return PageConsent
	}
	if p.isErrorPage(st) {
		return PageErrorPage
	}
	return PageUnknown
}

func (p *Profile) isErrorPage(st pageState) bool {
	m := p.ErrorPage
	if m.empty() {
		return false
	}
	if m.Selector != "" && !st.Present[m.Selector] {
		return false
	}
	if p.re.errorText != nil && !p.re.errorText.MatchString(st.Text) {
		return false
	}
	if p.re.errorURL != nil && !p.re.errorURL.MatchString(st.URL) {
		return false
	}
	return true
}

func (p *Profile) loginErrorShown(st pageState) bool {
	return p.LoginError != "" && st.Present[p.LoginError]
}

// refusal says why a login page drawn after submitting credentials is a
// refused login, or "" when the profile cannot tell.
func (p *Profile) refusal(st pageState) string {
	switch {
	case p.loginErrorShown(st):
		return "shows " + p.LoginError
	case p.RefusedLoginReturnsToLogin:
		return "came back after submitting the credentials"
	}
	return ""
}

// Page samples the page once and says what it shows, read with p.
func (s *Session) Page(p *Profile, redirectPrefix string) (PageKind, string, error) {
	ctx, cancel := s.actionCtx()
	defer cancel()
	st, err := s.sample(ctx, p.selectors())
	if err != nil && st.URL == "" {
		return PageUnknown, "", err
	}
	return p.classify(st, AtPrefix(redirectPrefix)), st.URL, nil
}

// Arrived tells whether the browser, at url, has left the provider for
// the redirect target, where a flow ends.
type Arrived func(url string) bool

// AtPrefix has arrived at the first URL starting with prefix; with an
// empty prefix it never arrives.
func AtPrefix(prefix string) Arrived {
	return func(u string) bool { return prefix != "" && strings.HasPrefix(u, prefix) }
}

func (a Arrived) at(url string) bool { return a != nil && a(url) }

// LoginFailed reports whether the page shows the profile's wrong-password
// marker or, after credentials were submitted and with
// RefusedLoginReturnsToLogin, the login page again.
func (s *Session) LoginFailed(p *Profile) bool {
	if p.LoginError != "" && s.Exists(p.LoginError) {
		return true
	}
	return p.RefusedLoginReturnsToLogin && s.Exists(p.LoginMarker())
}

// OnErrorPage reports whether the page is the profile's error page.
func (s *Session) OnErrorPage(p *Profile) bool {
	k, _, err := s.Page(p, "")
	return err == nil && k == PageErrorPage
}

// Login waits for the login form, the consent page, the error page or the
// redirect target. On the login form it types the credentials, submits and
// waits for the next page. shown is false when an existing single-sign-on
// session skipped the login. A refused login gives ErrLoginFailed; an error
// page gives ErrErrorPage.
func (s *Session) Login(p *Profile, arrived Arrived, username, password string) (shown bool, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, 2*s.timeout)
	defer cancel()
	d := &driver{s: s, p: p, arrived: arrived}
	k, st, err := d.waitFor(ctx, "the login page, the consent page, an error page or the redirect", PageLogin, PageConsent, PageErrorPage, PageRedirected)
	if err != nil {
		return false, err
	}
	switch k {
	case PageErrorPage:
		return false, fmt.Errorf("browser: at %s: %w", st.URL, ErrErrorPage)
	case PageLogin:
		return true, d.submitLogin(ctx, st, username, password)
	}
	return false, nil
}

// Consent waits for the consent page, an error page or the redirect
// target, and approves or denies. shown is false when the provider skipped
// the consent page (consent given earlier, or not asked for this client);
// the caller decides whether that matters.
func (s *Session) Consent(p *Profile, arrived Arrived, approve bool) (shown bool, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, 2*s.timeout)
	defer cancel()
	d := &driver{s: s, p: p, arrived: arrived}
	k, st, err := d.waitFor(ctx, "the consent page, an error page or the redirect", PageConsent, PageErrorPage, PageRedirected)
	if err != nil {
		return false, err
	}
	switch k {
	case PageErrorPage:
		return false, fmt.Errorf("browser: at %s: %w", st.URL, ErrErrorPage)
	case PageConsent:
		return true, d.answerConsent(ctx, approve)
	}
	return false, nil
}

// AuthorizeRequest describes one authorization driven through the browser.
type AuthorizeRequest struct {
	// URL is the authorization request.
	URL string
	// RedirectPrefix ends the flow: the first URL starting with it is the
	// authorization response (normally the redirect listener's URL).
	RedirectPrefix string
	// Profile reads the provider's pages; nil means detect among Profiles.
	Profile  *Profile
	Profiles map[string]*Profile
	Username string
	Password string
	// DenyConsent answers the consent page with deny instead of approve.
	DenyConsent bool
	// Unattended stops at a login or consent page with ErrUserInteraction:
	// the request expects the provider to answer by itself (an error
	// page, an error response, or prompt=none's silent answer).
	Unattended bool
	// Timeout bounds the whole flow; zero means four action timeouts.
	Timeout time.Duration
}

// AuthorizeResult is how an authorization went.
type AuthorizeResult struct {
	// RedirectURL is the authorization response URL caught at RedirectPrefix.
	RedirectURL string
	// Final is the page the flow ended on.
	Final PageKind
	// FinalURL is the URL of that page.
	FinalURL string
	// Profile is the profile used (detected when none was given).
	Profile *Profile
	// LoginShown and ConsentShown say which pages appeared; a provider with
	// a single-sign-on session or remembered consent skips them.
	LoginShown   bool
	ConsentShown bool
	// Trace lists the pages seen, in order, for reports.
	Trace []string
}

// Authorize drives one authorization: it opens req.URL and then, until the
// browser reaches req.RedirectPrefix, samples the page, recognises it with
// the profile and acts (log in, answer consent). Sampling rather than
// waiting for load events keeps it working with pages that never finish
// loading and with providers that skip pages. It returns ErrLoginFailed,
// ErrErrorPage or a timeout naming the last page seen; the result is filled
// as far as the flow went in every case.
func (s *Session) Authorize(ctx context.Context, req AuthorizeRequest) (*AuthorizeResult, error) {
	if req.URL == "" || req.RedirectPrefix == "" {
		return nil, errors.New("browser: Authorize needs URL and RedirectPrefix")
	}
	if req.Profile == nil && len(req.Profiles) == 0 {
		return nil, errors.New("browser: Authorize needs a profile or profiles to detect from")
	}
	total := req.Timeout
	if total <= 0 {
		total = 4 * s.timeout
	}
	fctx, cancel := context.WithTimeout(s.ctx, total)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()

	res := &AuthorizeResult{Profile: req.Profile}
	if err := s.Navigate(req.URL); err != nil {
		// A failed load is not the end: the redirect target may simply be
		// unreachable, which the first sample below recognises.
		res.Trace = append(res.Trace, "navigation: "+err.Error())
	}

	d := &driver{s: s, p: req.Profile, arrived: AtPrefix(req.RedirectPrefix), profiles: req.Profiles}
	for {
		k, st, err := d.waitFor(fctx, "the next page of the authorization", PageLogin, PageConsent, PageErrorPage, PageRedirected)
		res.Profile = d.p
		if st.URL != "" {
			res.FinalURL = st.URL
		}
		if err != nil {
			return res, fmt.Errorf("%w (pages seen: %s)", err, strings.Join(res.Trace, " → "))
		}
		res.Final = k
		res.Trace = append(res.Trace, k.String()+" "+st.URL)
		switch {
		case k == PageRedirected:
			res.RedirectURL = st.URL
			return res, nil
		case k == PageErrorPage:
			return res, fmt.Errorf("browser: at %s: %w", st.URL, ErrErrorPage)
		case req.Unattended:
			res.LoginShown = res.LoginShown || k == PageLogin
			res.ConsentShown = res.ConsentShown || k == PageConsent
			return res, fmt.Errorf("browser: the provider showed its %s at %s: %w", k, st.URL, ErrUserInteraction)
		case k == PageLogin:
			if res.LoginShown {
				return res, fmt.Errorf("browser: the login page came back after submitting the credentials of %q: %w", req.Username, ErrLoginFailed)
			}
			res.LoginShown = true
			if err := d.submitLogin(fctx, st, req.Username, req.Password); err != nil {
				return res, err
			}
		case k == PageConsent:
			if res.ConsentShown {
				return res, fmt.Errorf("browser: the consent page came back after answering it at %s", st.URL)
			}
			res.ConsentShown = true
			if err := d.answerConsent(fctx, !req.DenyConsent); err != nil {
				return res, err
			}
		}
	}
}

// driver holds what a flow needs between samples.
type driver struct {
	s        *Session
	p        *Profile
	profiles map[string]*Profile
	arrived  Arrived

	// marked is the mark of the document last acted on, and markedKind how
	// it was read then; that document is ignored until it changes.
	marked     int
	markedKind PageKind
}

func (d *driver) selectors() []string {
	if d.p != nil {
		return d.p.selectors()
	}
	set := map[string]bool{}
	for _, p := range d.profiles {
		for _, s := range p.selectors() {
			set[s] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// detect picks a profile for the page, when none was given: the one with
// the most matching signs, fallback profiles only when no other matches.
func (d *driver) detect(st pageState) {
	if d.p != nil {
		return
	}
	names := slices.Sorted(maps.Keys(d.profiles))
	for _, fallback := range []bool{false, true} {
		best := 0
		for _, n := range names {
			p := d.profiles[n]
			if p.Detect.Fallback != fallback {
				continue
			}
			if score := p.detectScore(st); score > best {
				best, d.p = score, p
			}
		}
		if d.p != nil {
			return
		}
	}
}

// detectScore counts the detection signs of p the page shows; 0 when one
// of them fails.
func (p *Profile) detectScore(st pageState) int {
	score := 0
	if p.Detect.URLPattern != "" {
		if p.re.detectURL == nil || !p.re.detectURL.MatchString(st.URL) {
			return 0
		}
		score++
	}
	if p.Detect.Selector != "" {
		if !st.Present[p.Detect.Selector] {
			return 0
		}
		score++
	}
	return score
}

// waitFor samples until the page is one of want. A document the driver has
// acted on counts only once it reads differently (a page rendered by script
// without a navigation), except for the login error marker.
func (d *driver) waitFor(ctx context.Context, what string, want ...PageKind) (PageKind, pageState, error) {
	var got PageKind
	var last pageState
	var fatal error
	err := pollUntil(ctx, what, deadlineLeft(ctx), func(pctx context.Context) (bool, error) {
		st, err := d.s.sample(pctx, d.selectors())
		if st.URL != "" {
			last = st
		}
		if d.arrived.at(st.URL) {
			got = PageRedirected
			return true, nil
		}
		if err != nil {
			if strings.Contains(err.Error(), "invalid CSS selector") {
				fatal = err
				return true, nil
			}
			return false, err
		}
		d.detect(st)
		if d.p == nil {
			return false, nil
		}
		k := d.p.classify(st, d.arrived)
		// A document still being parsed may lack the elements that name it.
		if k == PageUnknown && st.Parsing {
			return false, nil
		}
		if d.marked != 0 && st.Mark == d.marked {
			if d.markedKind == PageLogin && d.p.loginErrorShown(st) {
				fatal = fmt.Errorf("browser: the login page shows %s at %s: %w", d.p.LoginError, st.URL, ErrLoginFailed)
				return true, nil
			}
			if k == d.markedKind || k == PageUnknown {
				return false, nil
			}
		}
		// Here the login page is a new document (the same one was skipped above).
		if k == PageLogin && d.marked != 0 && d.markedKind == PageLogin {
			if why := d.p.refusal(st); why != "" {
				fatal = fmt.Errorf("browser: the login page %s at %s: %w", why, st.URL, ErrLoginFailed)
				return true, nil
			}
		}
		for _, w := range want {
			if k == w {
				got = k
				return true, nil
			}
		}
		return false, nil
	})
	if fatal != nil {
		return PageUnknown, last, fatal
	}
	if err != nil {
		where := "no page yet"
		if last.URL != "" {
			where = "last URL " + last.URL
			if d.p != nil {
				where += ", read by profile " + d.p.Name + " as " + d.p.classify(last, d.arrived).String()
			} else {
				where += ", which no login profile recognises"
			}
		}
		return PageUnknown, last, fmt.Errorf("%w (%s)", err, where)
	}
	return got, last, nil
}

func deadlineLeft(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl).Round(time.Millisecond)
	}
	return 0
}

// act marks the document, then clicks selector.
func (d *driver) act(ctx context.Context, kind PageKind, selector string) error {
	d.marked++
	if err := d.s.mark(ctx, d.marked); err != nil {
		return fmt.Errorf("browser: marking the %s: %w", kind, err)
	}
	d.markedKind = kind
	return d.s.Click(selector)
}

func (d *driver) submitLogin(ctx context.Context, st pageState, username, password string) error {
	if d.p.loginErrorShown(st) && d.marked != 0 {
		return fmt.Errorf("browser: the login page shows %s: %w", d.p.LoginError, ErrLoginFailed)
	}
	if err := d.s.Fill(d.p.Login.Username, username); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if err := d.s.Fill(d.p.Login.Password, password); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if err := d.act(ctx, PageLogin, d.p.Login.Submit); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	// Wait for the page after the login (or the refusal) so that a caller
	// using Login alone finds the next page in place.
	_, _, err := d.waitFor(ctx, "the page after the login", PageLogin, PageConsent, PageErrorPage, PageRedirected, PageUnknown)
	if err != nil && errors.Is(err, ErrLoginFailed) {
		return err
	}
	return nil
}

func (d *driver) answerConsent(ctx context.Context, approve bool) error {
	sel := d.p.Consent.Approve
	if !approve {
		if d.p.Consent.Deny == "" {
			return fmt.Errorf("browser: profile %s: %w", d.p.Name, ErrNoDenySelector)
		}
		sel = d.p.Consent.Deny
	}
	if err := d.act(ctx, PageConsent, sel); err != nil {
		return fmt.Errorf("consent: %w", err)
	}
	return nil
}
