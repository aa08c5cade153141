package steps

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/cucumber/godog"
	"golang.org/x/net/html"
)

// registerFormCSRFSteps registers the steps that send the provider's login
// and consent forms from outside a browser, as another site would make the
// user's browser send them (RFC 6749 §10.12, cross-site request forgery).
func (s *scenario) registerFormCSRFSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the suite fetches the login page twice without a browser, as the user and as another site$`, s.fetchLoginPageTwice)
	sc.Step(`^the other site makes the user's browser post its copy of the login form with the user's password$`, s.crossSiteLoginPost)
	sc.Step(`^the login was refused, where the user's own post of the form is accepted$`, s.crossSiteLoginRefused)
	sc.Step(`^the suite signs in twice without a browser up to the consent page, as the user and as another site$`, s.signInTwiceToConsent)
	sc.Step(`^the other site makes the user's browser send its copy of the consent form$`, s.crossSiteConsent)
	sc.Step(`^the consent was refused, where the user's own consent is accepted$`, s.crossSiteConsentRefused)
}

// otherSiteOrigin is the origin a cross-site form comes from.
const otherSiteOrigin = "https://oauthtrio-other-site.example"

// formVisit is one user agent's way through the provider's pages: its
// cookies with their SameSite attributes, the page it is on and the form
// that page shows.
type formVisit struct {
	origin  *url.URL
	cookies []*http.Cookie
	pageURL *url.URL
	form    *htmlForm
}

// formCSRF is what a cross-site form scenario saw.
type formCSRF struct {
	user, site *formVisit
	attack     *response
	attackAt   *url.URL // where the cross-site request ended
}

// htmlForm is a form of a page: how and where it is sent, and its fields.
type htmlForm struct {
	method   string
	action   string
	fields   url.Values
	username string // the name of the text field before the password
	password string // the name of the password field
}

// fetchLoginPageTwice follows the authorization request to the login page
// twice, with separate cookie stores: once as the user's browser, once as
// the other site, which gets a form of its own to forge with.
func (s *scenario) fetchLoginPageTwice() error {
	user, err := s.visitLoginPage()
	if err != nil {
		return err
	}
	site, err := s.visitLoginPage()
	if err != nil {
		return err
	}
	s.csrf = &formCSRF{user: user, site: site}
	return nil
}

// visitLoginPage follows the authorization request, in a cookie store of
// its own, to a page with a password form.
func (s *scenario) visitLoginPage() (*formVisit, error) {
	v, r, at, err := s.followAuthorizationRequest()
	if err != nil {
		return nil, err
	}
	form, err := pageForm(r.body, at, true)
	if err != nil {
		return nil, s.notApplicable("the login page at %s has no HTML form with a password field the suite can send (it may be built by a script): %v", at.Redacted(), err)
	}
	v.pageURL, v.form = at, form
	return v, nil
}

// follow sends req with the visit's cookies and follows redirects on the
// issuer's origin; it returns the last response (a redirect elsewhere, or
// a page) and its URL. A redirect the browser follows is a top-level GET,
// which carries the visit's cookies up to SameSite=Lax even when another
// site started it.
func (s *scenario) follow(v *formVisit, req *http.Request, sameSite bool) (*response, *url.URL, error) {
	for range 8 {
		v.addCookies(req, sameSite)
		r, err := s.do(req)
		if err != nil {
			return nil, nil, err
		}
		v.keepCookies(r.header)
		loc := r.header.Get("Location")
		if r.status < 300 || r.status >= 400 || loc == "" {
			return r, req.URL, nil
		}
		next, err := req.URL.Parse(loc)
		if err != nil {
			return nil, nil, err
		}
		if next.Scheme != v.origin.Scheme || next.Host != v.origin.Host {
			return r, next, nil
		}
		if req, err = http.NewRequestWithContext(s.ctx, http.MethodGet, next.String(), nil); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, errors.New("more than 8 redirects on the issuer's origin")
}

// keepCookies stores the cookies a response sets, with their attributes.
func (v *formVisit) keepCookies(h http.Header) {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		v.cookies = slices.DeleteFunc(v.cookies, func(old *http.Cookie) bool { return old.Name == c.Name && old.Path == c.Path })
		if c.MaxAge >= 0 {
			v.cookies = append(v.cookies, c)
		}
	}
}

// addCookies adds the cookies a browser sends with req: all of them when
// the issuer's own page sent it; when another site did, only those that
// SameSite lets through (RFC 6265bis §5.4.7.1: Lax cookies go with a
// top-level GET only, Strict ones never). A cookie without the attribute
// is sent: browsers differ there, and the other site gets the benefit of
// the doubt.
func (v *formVisit) addCookies(req *http.Request, sameSite bool) {
	for _, c := range v.cookies {
		if c.Path != "" && !strings.HasPrefix(req.URL.Path, c.Path) {
			continue
		}
		if !sameSite && (c.SameSite == http.SameSiteStrictMode || (c.SameSite == http.SameSiteLaxMode && req.Method != http.MethodGet)) {
			continue
		}
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
}

// send submits form, filled with fill, with the cookies of visit and the
// Origin of the page it comes from: the issuer's when sameSite, else the
// other site's.
func (s *scenario) send(form *htmlForm, visit *formVisit, fill url.Values, sameSite bool) (*http.Request, error) {
	fields := cloneValues(form.fields)
	for k, vs := range fill {
		fields[k] = vs
	}
	var req *http.Request
	var err error
	if form.method == http.MethodGet {
		u, perr := url.Parse(form.action)
		if perr != nil {
			return nil, perr
		}
		u.RawQuery = fields.Encode()
		req, err = http.NewRequestWithContext(s.ctx, http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(s.ctx, http.MethodPost, form.action, strings.NewReader(fields.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, err
	}
	if sameSite {
		req.Header.Set("Origin", visit.origin.Scheme+"://"+visit.origin.Host)
		req.Header.Set("Referer", visit.pageURL.String())
	} else {
		req.Header.Set("Origin", otherSiteOrigin)
		req.Header.Set("Referer", otherSiteOrigin+"/")
	}
	return req, nil
}

// credentials fills a login form with the valid user's name and password.
func (s *scenario) credentials(form *htmlForm) (url.Values, error) {
	u, err := s.validUser()
	if err != nil {
		return nil, err
	}
	s.run.rep.AddSecrets(u.Password)
	fill := url.Values{form.password: {u.Password}}
	if form.username != "" {
		fill.Set(form.username, u.Username)
	}
	return fill, nil
}

// crossSiteLoginPost is the login CSRF of RFC 6749 §10.12: the other site
// posts the form it was shown, with the test user's credentials, from the
// user's browser, which adds the cookies a cross-site post carries.
func (s *scenario) crossSiteLoginPost() error {
	if s.csrf == nil {
		return errors.New("no login page was fetched")
	}
	fill, err := s.credentials(s.csrf.site.form)
	if err != nil {
		return err
	}
	req, err := s.send(s.csrf.site.form, s.csrf.user, fill, false)
	if err != nil {
		return err
	}
	s.csrf.user.addCookies(req, false)
	if s.csrf.attack, err = s.do(req); err != nil {
		return err
	}
	return nil
}

// crossSiteLoginRefused compares the cross-site post with the user's own
// post of the user's form: the provider must accept the latter and refuse
// the former. Accepted means what the user's own post got: a redirect to
// the same place, or a page (the consent page) with the same form fields
// and no password field.
func (s *scenario) crossSiteLoginRefused() error {
	if s.csrf == nil || s.csrf.attack == nil {
		return errors.New("no cross-site login post was sent")
	}
	attack := s.csrf.attack
	fill, err := s.credentials(s.csrf.user.form)
	if err != nil {
		return err
	}
	req, err := s.send(s.csrf.user.form, s.csrf.user, fill, true)
	if err != nil {
		return err
	}
	s.csrf.user.addCookies(req, true)
	own, err := s.do(req)
	if err != nil {
		return err
	}
	ownKind, ok := loginOutcome(own)
	if !ok {
		return s.notApplicable("the user's own post of the login form was not accepted either (HTTP %d), so a refusal cannot be told apart", own.status)
	}
	if attackKind, ok := loginOutcome(attack); ok && attackKind == ownKind {
		return fmt.Errorf("the provider accepted the login form posted from %s, with the cookies a cross-site post carries, as it accepts the user's own (%s): RFC 6749 §10.12 requires protection against cross-site request forgery", otherSiteOrigin, attackKind)
	}
	s.rec.Note("the cross-site post got HTTP %d; the user's own post got %s", attack.status, ownKind)
	return nil
}

// loginOutcome describes an accepted login post: where it redirects, or the
// fields of the page it shows. ok is false for anything else (an error, the
// login page again).
func loginOutcome(r *response) (string, bool) {
	if r.status >= 300 && r.status < 400 && r.header.Get("Location") != "" {
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil {
			return "", false
		}
		return "a redirect to " + loc.Path, true
	}
	if r.status != http.StatusOK {
		return "", false
	}
	doc, err := html.Parse(bytes.NewReader(r.body))
	if err != nil {
		return "", false
	}
	var names []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || (n.Data != "input" && n.Data != "button") {
			continue
		}
		if strings.EqualFold(attr(n, "type"), "password") {
			return "", false
		}
		if name := attr(n, "name"); name != "" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", false
	}
	slices.Sort(names)
	return "a page with the fields " + strings.Join(slices.Compact(names), ", "), true
}

// signInTwiceToConsent logs in as the valid user twice, each time in a
// cookie store of its own and with the provider's own pages (same-site),
// up to the consent page: the user's, and the other site's, whose consent
// form is the one it forges with.
func (s *scenario) signInTwiceToConsent() error {
	user, err := s.visitConsentPage()
	if err != nil {
		return err
	}
	site, err := s.visitConsentPage()
	if err != nil {
		return err
	}
	s.csrf = &formCSRF{user: user, site: site}
	return nil
}

func (s *scenario) visitConsentPage() (*formVisit, error) {
	v, err := s.visitLoginPage()
	if err != nil {
		return nil, err
	}
	fill, err := s.credentials(v.form)
	if err != nil {
		return nil, err
	}
	req, err := s.send(v.form, v, fill, true)
	if err != nil {
		return nil, err
	}
	r, at, err := s.follow(v, req, true)
	if err != nil {
		return nil, err
	}
	if r.status >= 300 && r.status < 400 {
		return nil, s.notApplicable("after the login the provider showed no consent page: it redirected to %s", at.Redacted())
	}
	if r.status != http.StatusOK {
		return nil, fmt.Errorf("the login without a browser failed: HTTP %d at %s", r.status, at.Redacted())
	}
	form, err := pageForm(r.body, at, false)
	if err != nil {
		return nil, s.notApplicable("the page after the login at %s has no HTML consent form the suite can send (it may be built by a script): %v", at.Redacted(), err)
	}
	v.pageURL, v.form = at, form
	return v, nil
}

// crossSiteConsent: the other site sends the consent form it was shown from
// the user's browser, which carries the cookies a cross-site request
// carries and follows the redirects.
func (s *scenario) crossSiteConsent() error {
	if s.csrf == nil {
		return errors.New("no consent page was reached")
	}
	req, err := s.send(s.csrf.site.form, s.csrf.user, nil, false)
	if err != nil {
		return err
	}
	r, at, err := s.follow(s.csrf.user, req, false)
	if err != nil {
		return err
	}
	s.csrf.attack, s.csrf.attackAt = r, at
	return nil
}

// issuedCode tells whether a response ends at the client's redirect URI
// with a code.
func (s *scenario) issuedCode(r *response, at *url.URL) bool {
	if r.status < 300 || r.status >= 400 || s.auth == nil {
		return false
	}
	return strings.HasPrefix(at.String(), s.auth.params.Get("redirect_uri")) && at.Query().Get("code") != ""
}

// crossSiteConsentRefused: the cross-site consent must not give the client
// a code, and the user's own consent must (else nothing can be told).
func (s *scenario) crossSiteConsentRefused() error {
	if s.csrf == nil || s.csrf.attack == nil {
		return errors.New("no cross-site consent was sent")
	}
	if s.issuedCode(s.csrf.attack, s.csrf.attackAt) {
		return fmt.Errorf("the consent form sent from %s, with the cookies a cross-site request carries, approved the request waiting in the user's browser: the client got a code. RFC 6749 §10.12 requires protection against cross-site request forgery", otherSiteOrigin)
	}
	req, err := s.send(s.csrf.user.form, s.csrf.user, nil, true)
	if err != nil {
		return err
	}
	r, at, err := s.follow(s.csrf.user, req, true)
	if err != nil {
		return err
	}
	if !s.issuedCode(r, at) {
		return s.notApplicable("the user's own consent, sent without a browser, gave no code either (HTTP %d at %s), so a refusal cannot be told apart", r.status, at.Redacted())
	}
	s.rec.Note("the cross-site consent got HTTP %d; the user's own consent got a code", s.csrf.attack.status)
	return nil
}

// approveWords name a consent form's approving button.
var approveWords = regexp.MustCompile(`(?i)approve|allow|accept|authori[sz]e|consent|continue|yes|grant`)

// pageForm finds the form of a page with its fields' values as served: the
// login form (one with a password field) or, without withPassword, the
// consent form (a form without one), sent by its approving button.
func pageForm(body []byte, page *url.URL, withPassword bool) (*htmlForm, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "form" {
			continue
		}
		f := &htmlForm{method: strings.ToUpper(attr(n, "method")), fields: url.Values{}}
		if f.method != http.MethodPost {
			f.method = http.MethodGet
		}
		action, err := page.Parse(attr(n, "action"))
		if err != nil {
			return nil, fmt.Errorf("the form's action: %w", err)
		}
		f.action = action.String()
		var buttons []*html.Node
		for in := range n.Descendants() {
			if in.Type != html.ElementNode {
				continue
			}
			name, typ := attr(in, "name"), strings.ToLower(attr(in, "type"))
			switch {
			case (in.Data == "button" && (typ == "" || typ == "submit")) || (in.Data == "input" && typ == "submit"):
				buttons = append(buttons, in)
			case name == "":
			case in.Data == "input" && typ == "password":
				f.password = name
			case in.Data == "input" && (typ == "" || typ == "text" || typ == "email") && f.password == "" && f.username == "":
				f.username = name
			case in.Data == "input" && (typ == "checkbox" || typ == "radio"):
				if hasAttr(in, "checked") {
					f.fields.Add(name, attr(in, "value"))
				}
			case in.Data == "input":
				f.fields.Add(name, attr(in, "value"))
			}
		}
		if (f.password != "") != withPassword || (!withPassword && len(buttons) == 0) {
			continue
		}
		// The button a user presses: on a consent form the first that
		// approves, else the first.
		var pressed *html.Node
		if len(buttons) > 0 {
			pressed = buttons[0]
		}
		if !withPassword {
			if i := slices.IndexFunc(buttons, approves); i >= 0 {
				pressed = buttons[i]
			}
		}
		if pressed != nil && attr(pressed, "name") != "" {
			f.fields.Set(attr(pressed, "name"), attr(pressed, "value"))
		}
		return f, nil
	}
	if withPassword {
		return nil, errors.New("no form with a password field")
	}
	return nil, errors.New("no form with a button and without a password field")
}

func approves(button *html.Node) bool {
	return approveWords.MatchString(strings.Join([]string{attr(button, "name"), attr(button, "value"), attr(button, "id"), textOf(button)}, " "))
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}
