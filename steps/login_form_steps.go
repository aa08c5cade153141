package steps

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cucumber/godog"
	"golang.org/x/net/html"
)

// registerLoginFormSteps registers the steps that post the provider's login
// form from outside a browser, as another site would make a browser do
// (RFC 6749 §10.12, login CSRF).
func (s *scenario) registerLoginFormSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the suite fetches the login page twice without a browser, as the user and as another site$`, s.fetchLoginPageTwice)
	sc.Step(`^the other site makes the user's browser post its copy of the login form with the user's password$`, s.crossSiteLoginPost)
	sc.Step(`^the login was refused, where the user's own post of the form is accepted$`, s.crossSiteLoginRefused)
}

// otherSiteOrigin is the origin a cross-site form post comes from.
const otherSiteOrigin = "https://oauthtrio-other-site.example"

// loginVisit is one user agent's way to the login page: its cookies with
// their SameSite attributes, and the form it was shown.
type loginVisit struct {
	cookies []*http.Cookie
	pageURL *url.URL
	form    *htmlForm
}

// loginCSRF is what the cross-site login scenario saw.
type loginCSRF struct {
	user, site *loginVisit
	attack     *response
}

// htmlForm is a form of a page: where it posts and its fields.
type htmlForm struct {
	action   string
	fields   url.Values
	username string // the name of the text field before the password
	password string // the name of the password field
}

// fetchLoginPageTwice follows the authorization request to the login page
// twice, with separate cookie stores: once as the user's browser, once as
// the other site, which gets a form of its own to forge with.
func (s *scenario) fetchLoginPageTwice() error {
	authURL, err := s.authorizationURL()
	if err != nil {
		return err
	}
	user, err := s.visitLoginPage(authURL)
	if err != nil {
		return err
	}
	site, err := s.visitLoginPage(authURL)
	if err != nil {
		return err
	}
	s.csrf = &loginCSRF{user: user, site: site}
	return nil
}

// visitLoginPage follows redirects on the issuer's origin to a page with a
// password field, keeping the cookies set on the way.
func (s *scenario) visitLoginPage(authURL string) (*loginVisit, error) {
	origin, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	v := &loginVisit{}
	next := authURL
	for range 5 {
		u, err := url.Parse(next)
		if err != nil {
			return nil, err
		}
		if u.Scheme != origin.Scheme || u.Host != origin.Host {
			return nil, s.notApplicable("the authorization request left the issuer's origin (%s) without showing a login page", u.Host)
		}
		req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		v.addCookies(req, true)
		r, err := s.do(req)
		if err != nil {
			return nil, err
		}
		v.keepCookies(r.header)
		loc := r.header.Get("Location")
		if r.status >= 300 && r.status < 400 && loc != "" {
			ref, err := u.Parse(loc)
			if err != nil {
				return nil, err
			}
			next = ref.String()
			continue
		}
		form, err := passwordForm(r.body, u)
		if err != nil {
			return nil, s.notApplicable("the login page at %s has no HTML form with a password field the suite can post (it may be built by a script): %v", u.Redacted(), err)
		}
		v.pageURL, v.form = u, form
		return v, nil
	}
	return nil, errors.New("more than 5 redirects before the login page")
}

// keepCookies stores the cookies a response sets, with their attributes.
func (v *loginVisit) keepCookies(h http.Header) {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		v.cookies = slices.DeleteFunc(v.cookies, func(old *http.Cookie) bool { return old.Name == c.Name && old.Path == c.Path })
		if c.MaxAge >= 0 {
			v.cookies = append(v.cookies, c)
		}
	}
}

// addCookies adds the cookies a browser sends with req: all of them for a
// request of the issuer's own pages, and for a cross-site form post only
// those without SameSite Lax or Strict (RFC 6265bis §5.4.7.1; browsers
// treat a cookie without the attribute differently, so it is sent, which
// gives the other site the benefit of the doubt).
func (v *loginVisit) addCookies(req *http.Request, sameSite bool) {
	for _, c := range v.cookies {
		if c.Path != "" && !strings.HasPrefix(req.URL.Path, c.Path) {
			continue
		}
		if !sameSite && (c.SameSite == http.SameSiteLaxMode || c.SameSite == http.SameSiteStrictMode) {
			continue
		}
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
}

// crossSiteLoginPost is the login CSRF of RFC 6749 §10.12: the other site
// posts the form it was shown, with the test user's credentials, from the
// user's browser, which adds the cookies a cross-site post carries.
func (s *scenario) crossSiteLoginPost() error {
	if s.csrf == nil {
		return errors.New("no login page was fetched")
	}
	u, err := s.validUser()
	if err != nil {
		return err
	}
	r, err := s.postLoginForm(s.csrf.site.form, s.csrf.user, u.Username, u.Password, false)
	if err != nil {
		return err
	}
	s.csrf.attack = r
	return nil
}

// postLoginForm posts form filled with the credentials, with the cookies
// of visit that the request's site allows.
func (s *scenario) postLoginForm(form *htmlForm, visit *loginVisit, username, password string, sameSite bool) (*response, error) {
	fields := cloneValues(form.fields)
	if form.username != "" {
		fields.Set(form.username, username)
	}
	fields.Set(form.password, password)
	body := fields.Encode()
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, form.action, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sameSite {
		req.Header.Set("Origin", visit.pageURL.Scheme+"://"+visit.pageURL.Host)
		req.Header.Set("Referer", visit.pageURL.String())
	} else {
		req.Header.Set("Origin", otherSiteOrigin)
		req.Header.Set("Referer", otherSiteOrigin+"/")
	}
	visit.addCookies(req, sameSite)
	s.run.rep.AddSecrets(password)
	return s.do(req)
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
	u, err := s.validUser()
	if err != nil {
		return err
	}
	own, err := s.postLoginForm(s.csrf.user.form, s.csrf.user, u.Username, u.Password, true)
	if err != nil {
		return err
	}
	ownKind, ok := loginOutcome(own)
	if !ok {
		return s.notApplicable("the user's own post of the login form was not accepted either (%s), so a refusal cannot be told apart", own)
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
	password := false
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || (n.Data != "input" && n.Data != "button") {
			continue
		}
		if attr(n, "type") == "password" {
			password = true
		}
		if name := attr(n, "name"); name != "" {
			names = append(names, name)
		}
	}
	if password || len(names) == 0 {
		return "", false
	}
	slices.Sort(names)
	return "a page with the fields " + strings.Join(slices.Compact(names), ", "), true
}

// passwordForm finds the form with a password field on a page, with its
// fields' values as served: the other site, which fetched its own copy,
// knows them all.
func passwordForm(body []byte, page *url.URL) (*htmlForm, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "form" || !strings.EqualFold(attr(n, "method"), "post") {
			continue
		}
		f := &htmlForm{fields: url.Values{}}
		action, err := page.Parse(attr(n, "action"))
		if err != nil {
			return nil, fmt.Errorf("the form's action: %w", err)
		}
		f.action = action.String()
		submitted := false
		for in := range n.Descendants() {
			if in.Type != html.ElementNode {
				continue
			}
			name, typ := attr(in, "name"), strings.ToLower(attr(in, "type"))
			switch {
			case name == "":
			case in.Data == "input" && typ == "password":
				f.password = name
			case in.Data == "input" && (typ == "" || typ == "text" || typ == "email") && f.password == "" && f.username == "":
				f.username = name
			case in.Data == "input" && (typ == "checkbox" || typ == "radio"):
				if hasAttr(in, "checked") {
					f.fields.Add(name, attr(in, "value"))
				}
			case (in.Data == "button" && (typ == "" || typ == "submit")) || (in.Data == "input" && typ == "submit"):
				// The first submit button is the one a user presses.
				if !submitted {
					f.fields.Set(name, attr(in, "value"))
					submitted = true
				}
			case in.Data == "input":
				f.fields.Add(name, attr(in, "value"))
			}
		}
		if f.password != "" {
			return f, nil
		}
	}
	return nil, errors.New("no form posting a password field")
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
