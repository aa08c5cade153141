// Package steps is the conformance suite: the step definitions behind the
// Gherkin features and the runner that points them at an issuer.
package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	gherkin "github.com/cucumber/gherkin/go/v42"
	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v34"

	"github.com/oauthtrio/oauthtrio/features"
	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/report"
	"github.com/oauthtrio/oauthtrio/steps/target"
)

// Options says what to run against what.
type Options struct {
	// Config is the target. Nil runs against the built-in reference trio.
	Config *target.Config
	// Reference tunes the built-in reference (ignored with Config).
	Reference ReferenceOptions
	// Tags is a godog tag expression selecting scenarios.
	Tags string
	// ReportDir receives cucumber.json, junit.xml, report.html and the
	// artifacts of failed browser steps; empty writes no files.
	ReportDir string
	// Concurrency is how many scenarios run at once (default 4).
	Concurrency int
	// Profile names the login profile ("auto" detects it); it overrides
	// the target configuration's.
	Profile string
	// Features are the feature files; nil means the shipped ones.
	Features fs.FS
	// Output receives progress and the summary (default stdout).
	Output io.Writer
	// TestingT runs the scenarios as subtests of a test.
	TestingT *testing.T
	// ChromiumPath overrides the Chromium executable.
	ChromiumPath string
}

// Result is the outcome of a run.
type Result struct {
	Report *report.Report
	// Failed is true when a MUST scenario failed (and was not expected to).
	Failed bool
}

// run is what every scenario of one run shares.
type run struct {
	cfg       *target.Config
	meta      *target.Metadata
	caps      *target.Capabilities
	http      *http.Client
	rep       *report.Report
	browser   *browser.Browser
	profiles  map[string]*browser.Profile
	profile   *browser.Profile
	listeners map[string]*target.RedirectListener // by redirect URI
	keys      *oidc.RemoteKeySet
	ref       *reference // nil against an external issuer
	ctx       context.Context
	artifacts string
	progress  *progress
}

// Run runs the suite and writes the reports.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Output == nil {
		opts.Output = os.Stdout
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Features == nil {
		opts.Features = features.Files
	}
	r := &run{ctx: ctx, listeners: map[string]*target.RedirectListener{}}
	defer r.close()

	cfg := opts.Config
	if cfg == nil {
		ref, refCfg, err := startReference(ctx, opts.Reference)
		if err != nil {
			return nil, err
		}
		r.ref, cfg = ref, refCfg
	}
	if opts.Profile != "" {
		cfg.Profile = opts.Profile
	}
	r.cfg = cfg
	if err := r.prepare(opts); err != nil {
		return nil, err
	}

	plan, err := planScenarios(opts.Features, r.caps)
	if err != nil {
		return nil, err
	}
	for _, na := range plan.notApplicable {
		r.rep.AddNotApplicable(na.name, na.feature, na.tags, na.reason)
	}
	tags := plan.exclude
	if opts.Tags != "" {
		tags = joinTags(opts.Tags, tags)
	}
	fmt.Fprintf(opts.Output, "oauthtrio check: %s\n", cfg.Issuer)
	fmt.Fprintf(opts.Output, "  %d scenarios, %d not applicable to this issuer\n", plan.total, len(plan.notApplicable))

	if plan.needsBrowser && r.caps.Has("browser") {
		if err := r.startBrowser(opts); err != nil {
			r.caps.Set("browser", false, err.Error())
			fmt.Fprintf(opts.Output, "  the browser could not start: %v\n", err)
		}
	}

	godogOpts := &godog.Options{
		// godog's own summary counts skipped scenarios as passed; the
		// report's summary is printed instead, after a line of progress.
		Format:         "progress",
		Output:         io.Discard,
		FS:             opts.Features,
		Paths:          []string{"."},
		Tags:           tags,
		Concurrency:    opts.Concurrency,
		Strict:         true,
		NoColors:       true,
		TestingT:       opts.TestingT,
		DefaultContext: ctx,
	}
	suite := godog.TestSuite{
		Name:                "oauthtrio",
		ScenarioInitializer: r.initializeScenario,
		Options:             godogOpts,
	}
	r.progress = &progress{w: opts.Output}
	suite.Run()
	r.progress.end()

	if opts.ReportDir != "" {
		if err := r.rep.WriteAll(opts.ReportDir); err != nil {
			return nil, fmt.Errorf("writing the reports: %w", err)
		}
	}
	r.rep.Summary(opts.Output)
	if opts.ReportDir != "" {
		fmt.Fprintf(opts.Output, "Reports: %s\n", filepath.Join(opts.ReportDir, "report.html"))
	}
	return &Result{Report: r.rep, Failed: r.rep.Failed()}, nil
}

// joinTags ANDs two godog tag expressions. godog's expressions have no
// parentheses ("," is OR and binds loosest, "&&" is AND), so b, an AND
// of terms, is added to each OR branch of a.
func joinTags(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	branches := strings.Split(a, ",")
	for i, br := range branches {
		branches[i] = strings.TrimSpace(br) + " && " + b
	}
	return strings.Join(branches, ",")
}

// prepare reads the issuer's metadata, works out what it can do and
// starts the redirect listeners.
func (r *run) prepare(opts Options) error {
	cfg := r.cfg
	if cfg.Timeouts.HTTP <= 0 {
		cfg.Timeouts.HTTP = target.DefaultHTTPTimeout
	}
	if cfg.Timeouts.Browser <= 0 {
		cfg.Timeouts.Browser = target.DefaultBrowserTimeout
	}
	hc, err := cfg.HTTPClient()
	if err != nil {
		return err
	}
	hc.Transport = recorder{base: hc.Transport}
	r.http = hc

	r.rep = report.New("oauthtrio conformance report", cfg.Issuer)
	r.rep.FeatureFS = opts.Features
	for _, c := range cfg.Clients {
		if c != nil {
			r.rep.AddSecrets(c.Secret)
		}
	}
	for _, u := range []*target.User{cfg.Users.Valid, cfg.Users.Invalid} {
		if u != nil {
			r.rep.AddSecrets(u.Password)
		}
	}
	if cfg.ExpectedFailures != nil {
		ef := cfg.ExpectedFailures
		r.rep.ExpectedFailure = func(name string, tags []string) (string, bool) {
			e, ok := ef.Lookup(name, tags...)
			return e.Reason, ok
		}
	}
	if opts.ReportDir != "" {
		r.artifacts = filepath.Join(opts.ReportDir, "artifacts")
	}

	dctx, cancel := context.WithTimeout(r.ctx, cfg.Timeouts.HTTP)
	defer cancel()
	meta, err := target.Discover(dctx, hc, cfg.Issuer)
	if err != nil && len(cfg.Endpoints) == 0 {
		// Without metadata nothing can be tested; saying "not applicable"
		// to every scenario would pass a run that tested nothing.
		hint := ""
		if strings.Contains(err.Error(), "certificate") {
			hint = " (for a self-signed issuer, set tls.ca_file or tls.insecure in the target configuration, or pass -ca-file or -insecure)"
		}
		return fmt.Errorf("the discovery document of %s could not be read: %w%s", cfg.Issuer, err, hint)
	}
	if err != nil {
		fmt.Fprintf(opts.Output, "  discovery failed, using the configured endpoints: %v\n", err)
		r.caps = target.NoDiscovery(err)
		r.meta = &target.Metadata{}
	} else {
		if err := meta.ApplyOverrides(cfg.Endpoints); err != nil {
			return err
		}
		r.meta = meta
		r.caps = meta.Capabilities()
		r.keys = oidc.NewRemoteKeySet(oidc.ClientContext(r.ctx, hc), meta.JWKSURI)
	}
	if err := r.registerMissingClients(opts.Output); err != nil {
		return err
	}
	r.caps.ApplyConfig(cfg)
	r.caps.Set("reference_client", r.ref != nil, "only the built-in reference trio has the reference client application")
	r.caps.Set("workshop", r.ref != nil || cfg.Workshop, "the target is not configured with the IRIS workshop customisation (set workshop: true in the target configuration)")
	if _, err := browser.FindChromium(); err != nil && opts.ChromiumPath == "" {
		r.caps.Set("browser", false, "Chromium is not installed: "+err.Error())
	} else {
		r.caps.Set("browser", true, "")
	}

	r.profiles, err = loadProfiles()
	if err != nil {
		return err
	}
	if cfg.Profile != "" && cfg.Profile != target.ProfileAuto {
		p, ok := r.profiles[cfg.Profile]
		if !ok {
			return fmt.Errorf("no login profile named %q (have: %s)", cfg.Profile, strings.Join(profileNames(r.profiles), ", "))
		}
		r.profile = p
	}
	r.caps.Set("login_failure", r.profile == nil || r.profile.DetectsLoginFailure(), loginFailureWhy(r.profile))

	for _, uri := range cfg.RedirectURIs() {
		if _, ok := r.listeners[uri]; ok {
			continue // a registered client's own listener
		}
		lo, err := target.ListenerFor(uri)
		if err != nil {
			return err
		}
		l, err := target.NewRedirectListener(lo)
		if err != nil {
			return fmt.Errorf("redirect URI %s: %w", uri, err)
		}
		r.listeners[uri] = l
	}
	return nil
}

// loginFailureWhy explains why a profile cannot recognise a refused login.
// A profile detected during the run is checked by the step instead.
func loginFailureWhy(p *browser.Profile) string {
	switch {
	case p == nil || p.DetectsLoginFailure():
		return ""
	case p.AcceptsAnyPassword:
		return fmt.Sprintf("the login profile %s says the provider accepts any password (accepts_any_password), so there is no wrong password to refuse", p.Name)
	}
	return fmt.Sprintf("the login profile %s has no login_error marker to recognise a refused login by", p.Name)
}

func loadProfiles() (map[string]*browser.Profile, error) {
	out := map[string]*browser.Profile{}
	entries, err := fs.ReadDir(fixtures.Profiles, "profiles")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := fs.ReadFile(fixtures.Profiles, path.Join("profiles", e.Name()))
		if err != nil {
			return nil, err
		}
		p, err := browser.ParseProfile(data)
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", e.Name(), err)
		}
		out[p.Name] = p
	}
	return out, nil
}

func profileNames(m map[string]*browser.Profile) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *run) startBrowser(opts Options) error {
	bo := browser.Options{
		ExecPath:      opts.ChromiumPath,
		ArtifactsDir:  r.artifacts,
		ActionTimeout: r.cfg.Timeouts.Browser,
	}
	switch {
	case r.cfg.TLS.Insecure:
		bo.IgnoreCertErrors = true
	case r.cfg.TLS.CAFile != "":
		spki, err := spkiOfFile(r.cfg.TLS.CAFile)
		if err != nil {
			return err
		}
		bo.TrustSPKI = spki
	}
	for _, l := range r.listeners {
		if cert := l.Certificate(); cert != nil {
			bo.TrustSPKI = append(bo.TrustSPKI, browser.SPKIHash(cert))
		}
	}
	b, err := browser.Start(r.ctx, bo)
	if err != nil {
		return err
	}
	r.browser = b
	return nil
}

func (r *run) close() {
	if r.browser != nil {
		_ = r.browser.Close()
	}
	for _, l := range r.listeners {
		_ = l.Close()
	}
	if r.ref != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.ref.close(ctx)
	}
}

// plan is the list of scenarios and which of them cannot apply.
type plan struct {
	total         int
	notApplicable []plannedScenario
	exclude       string
	needsBrowser  bool
}

type plannedScenario struct {
	name, feature, reason string
	tags                  []string
}

// planScenarios reads the features to record, before the run, every
// scenario the target cannot run and why: godog would only skip them
// silently, and a skipped scenario must never look passed.
func planScenarios(files fs.FS, caps *target.Capabilities) (*plan, error) {
	p := &plan{}
	var used []string
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".feature") {
			return err
		}
		f, err := files.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		doc, err := gherkin.ParseGherkinDocument(f, (&messages.Incrementing{}).NewId)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		doc.Uri = name
		for _, pk := range gherkin.Pickles(*doc, name, (&messages.Incrementing{}).NewId) {
			p.total++
			tags := make([]string, 0, len(pk.Tags))
			for _, t := range pk.Tags {
				tags = append(tags, t.Name)
				if !slices.Contains(used, t.Name) {
					used = append(used, t.Name)
				}
			}
			if reasons := caps.NotApplicable(tags); len(reasons) > 0 {
				p.notApplicable = append(p.notApplicable, plannedScenario{
					name: pk.Name, feature: doc.Feature.Name, tags: tags, reason: strings.Join(reasons, "; "),
				})
			} else if slices.Contains(tags, "@needs:browser") {
				p.needsBrowser = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the features: %w", err)
	}
	p.exclude = caps.ExcludeExpression(used)
	return p, nil
}

var errNoBrowser = errors.New("no browser is running")

// registerMissingClients registers a client for each browser role the
// configuration leaves out, when the target allows dynamic registration
// (RFC 7591). Each gets a redirect URI on a listener of its own.
func (r *run) registerMissingClients(out io.Writer) error {
	if !r.cfg.Registration.Enabled || r.meta.RegistrationEndpoint == "" {
		return nil
	}
	scopes := target.Scopes(r.meta.ScopesSupported)
	if len(scopes) == 0 {
		scopes = target.Scopes{"openid", "profile", "email", "offline_access"}
	}
	for _, role := range []target.Role{target.RoleWeb, target.RolePublic, target.RoleOther} {
		if _, ok := r.cfg.Client(role); ok {
			continue
		}
		l, err := target.NewRedirectListener(target.ListenerOptions{Addr: "127.0.0.1:0", Path: "/callback", TLS: true})
		if err != nil {
			return err
		}
		r.listeners[l.URL()] = l
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeouts.HTTP)
		c, err := target.Register(ctx, r.http, r.meta, r.cfg.Registration, target.RegistrationFor(role, l.URL(), scopes))
		cancel()
		if err != nil {
			fmt.Fprintf(out, "  could not register a %s client: %v\n", role, err)
			continue
		}
		c.RedirectURI, c.Scopes = l.URL(), scopes
		r.rep.AddSecrets(c.Secret)
		r.cfg.SetClient(role, c)
		fmt.Fprintf(out, "  registered a %s client: %s\n", role, c.ID)
	}
	return nil
}

// progress prints a character per finished scenario: . passed, F failed,
// - not applicable.
type progress struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (p *progress) scenarioDone(err error) {
	mark := "."
	switch {
	case err == nil:
	case errors.Is(err, godog.ErrSkip):
		mark = "-"
	default:
		mark = "F"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	fmt.Fprint(p.w, mark)
	if p.n%70 == 0 {
		fmt.Fprintf(p.w, " %d\n", p.n)
	}
}

func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n%70 != 0 {
		fmt.Fprintf(p.w, " %d\n", p.n)
	}
	fmt.Fprintln(p.w)
}
