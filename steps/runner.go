// Package steps is the conformance suite: the step definitions behind the
// Gherkin features and the runner that points them at an issuer.
package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/internal/selfsigned"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/features"
	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/callback"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// Options say which scenarios run and where the results go.
type Options struct {
	// Tags is a godog tag expression selecting scenarios.
	Tags string
	// ReportDir receives cucumber.json, junit.xml, report.html and the
	// artifacts of failed browser steps; empty writes no files.
	ReportDir string
	// Concurrency is how many scenarios run at once; zero means the
	// configuration's (which defaults to 4).
	Concurrency int
	// Profile names the login profile ("auto" detects it); it overrides
	// the target configuration's.
	Profile string
	// Features are the feature files; nil means the shipped ones. They
	// appear under features/ in reports and locations.
	Features fs.FS
	// ExtraFeatures are directories of the user's own feature files, run
	// beside Features with the same steps.
	ExtraFeatures []string
	// Select narrows the run by scenario name or FILE:LINE.
	Select Selection
	// Progress is how finished scenarios show on Output; Quiet prints only
	// the summary.
	Progress ProgressStyle
	// Color colours the progress (the caller decides: a terminal, no NO_COLOR).
	Color bool
	// Output receives progress and the summary (default stdout, or the
	// test's log with TestingT).
	Output io.Writer
	// TestingT runs each scenario as a subtest of this test, with the
	// verdict as its outcome (see subtests); go test's -run selects them.
	TestingT *testing.T
	// ChromiumPath overrides the Chromium executable.
	ChromiumPath string
	// Shard runs one part of the selected scenarios (Shard).
	Shard Shard
	// BrowserURL drives a running browser (browser.Connect) instead of
	// starting Chromium: its DevTools websocket or http://host:port.
	BrowserURL string
}

// Result is the outcome of a run.
type Result struct {
	Report *report.Report
	// Failed is true when a MUST scenario failed (and was not expected to).
	Failed bool
	// Interrupted is true when the run's context ended before the suite
	// did; the report is partial.
	Interrupted bool
}

// run is what every scenario of one run shares.
type run struct {
	cfg       *issuer.Config
	meta      *issuer.Metadata
	caps      *issuer.Capabilities
	http      *http.Client
	rep       *report.Report
	browser   *browser.Browser
	profiles  map[string]*browser.Profile
	profile   *browser.Profile
	listeners map[string]*callback.Listener // by redirect URI
	keys      *oidc.RemoteKeySet
	ctx       context.Context
	artifacts string
	progress  *progress
	subtests  *subtests // nil unless the run is a test's
}

// issuerID is the issuer identifier the suite expects: the configured
// issuer URL, byte for byte (target configuration "issuer"), never the one
// the issuer advertises. Discovery scenarios compare the advertised
// "issuer" against it (OIDC Discovery §4.3, RFC 8414 §3.3: they MUST be
// identical); every token check compares against it too: "iss" in ID
// tokens (OIDC Core §3.1.3.7), in JWT access tokens (RFC 9068 §4) and in
// authorization responses (RFC 9207 §2.4). So an issuer advertising a
// wrong identifier fails the discovery scenario and is not excused by the
// token ones; what the suite sends as the issuer (a request object's
// "aud", a forged token's "iss") is this identifier as well.
func (r *run) issuerID() string { return r.cfg.Issuer }

// Run runs the suite against the issuer cfg describes and writes the
// reports. The suite sees the issuer only through cfg and HTTP; launchers
// (steps/launch/...) start issuers and describe them. Run works on a copy
// of cfg.
func Run(ctx context.Context, cfg *issuer.Config, opts Options) (*Result, error) {
	if cfg == nil {
		return nil, errors.New("no issuer configuration")
	}
	switch {
	case opts.Output != nil:
	case opts.TestingT != nil:
		opts.Output = newTestOutput(opts.TestingT)
	default:
		opts.Output = os.Stdout
	}
	if opts.Features == nil {
		opts.Features = features.Files
	}
	files, roots, err := featureFiles(opts.Features, opts.ExtraFeatures)
	if err != nil {
		return nil, err
	}
	opts.Features = files
	paths, err := opts.Select.godogPaths(files, roots)
	if err != nil {
		return nil, err
	}
	say := opts.Output
	if opts.Progress == ProgressQuiet {
		say = io.Discard
	}
	r := &run{ctx: ctx, listeners: map[string]*callback.Listener{}}
	defer r.close()
	if opts.TestingT != nil {
		r.subtests = newSubtests(opts.TestingT)
	}

	cfg = cfg.Clone()
	cfg.ApplyDefaults()
	if opts.Concurrency <= 0 {
		opts.Concurrency = cfg.Concurrency
	}
	if opts.Profile != "" {
		cfg.Profile = opts.Profile
	}
	r.cfg = cfg
	if err := r.prepare(opts); err != nil {
		return nil, err
	}

	selection, godogTags, err := parseTagExpression(opts.Tags)
	if err != nil {
		return nil, err
	}
	plan, err := planScenarios(opts.Features, r.caps, selection, paths)
	if err != nil {
		return nil, err
	}
	if plan.total == 0 {
		return nil, fmt.Errorf("the tag expression %q selects no scenario (tags are matched exactly, e.g. @RFC6749-4.1.2 or @needs:pkce_s256)", opts.Tags)
	}
	if opts.Shard.Count > 0 {
		all := plan.total
		if paths, err = opts.Shard.apply(opts.Features, paths, selection, plan); err != nil {
			return nil, err
		}
		fmt.Fprintf(say, "  shard %s: %d of the %d selected scenarios\n", opts.Shard, plan.total, all)
	}
	for _, na := range plan.notApplicable {
		r.subtests.notApplicable(na.name, na.reason, func() {
			r.rep.AddNotApplicable(na.name, na.feature, na.tags, na.reason).SetFeatureURI(na.uri)
		})
	}
	tags := plan.exclude
	if godogTags != "" {
		tags = joinTags(godogTags, tags)
	}
	fmt.Fprintf(say, "oauthtrio check: %s\n", r.issuerID())
	fmt.Fprintf(say, "  %d scenarios, %d not applicable to this issuer\n", plan.total, len(plan.notApplicable))

	if plan.needsBrowser && r.caps.Has("browser") {
		if err := r.startBrowser(opts); err != nil {
			// Running on without it would report most of the suite as
			// not applicable: a run that tests little must not pass.
			return nil, fmt.Errorf("the browser could not start: %w", err)
		}
	}

	godogOpts := &godog.Options{
		// godog's own summary counts skipped scenarios as passed; the
		// report's summary is printed instead, after a line of progress.
		Format:         "progress",
		Output:         io.Discard,
		FS:             opts.Features,
		Paths:          paths,
		Tags:           tags,
		Concurrency:    opts.Concurrency,
		Strict:         true,
		NoColors:       true,
		DefaultContext: ctx,
	}
	suite := godog.TestSuite{
		Name:                "oauthtrio",
		ScenarioInitializer: r.initializeScenario,
		Options:             godogOpts,
	}
	if !opts.Select.empty() && len(paths) > 0 {
		n, err := selected(suite)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(say, "  %d selected (%s)\n", n, opts.Select)
	}
	r.progress = newProgress(say, opts.Progress, opts.Color)
	r.rep.OnFinish = r.progress.scenarioDone
	interrupted := false
	if len(paths) > 0 { // an empty shard: godog would take no paths as all of features/
		interrupted = r.runSuite(suite, opts.TestingT != nil)
	}
	r.subtests.end()
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
	return &Result{Report: r.rep, Failed: r.rep.Failed(), Interrupted: interrupted}, nil
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
	hc, err := cfg.HTTPClient()
	if err != nil {
		return err
	}
	// Every exchange goes into the report of the scenario that made it.
	hc.Transport = &report.Transport{Base: hc.Transport}
	r.http = hc

	r.rep = report.New("oauthtrio conformance report", r.issuerID())
	r.rep.FeatureFS = opts.Features
	reqs, err := features.Requirements()
	if err != nil {
		return err
	}
	for _, req := range reqs {
		r.rep.Sections = append(r.rep.Sections, report.Section{Tag: req.Tag, Level: req.Level, Text: req.Text})
	}
	r.rep.IsSection = features.IsSectionTag
	for _, c := range cfg.Clients {
		if c != nil {
			r.rep.AddSecrets(c.Secret)
		}
	}
	for _, u := range []*issuer.User{cfg.Users.Valid, cfg.Users.Invalid} {
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
	meta, err := issuer.Discover(dctx, hc, r.issuerID())
	if err != nil && len(cfg.Endpoints) == 0 {
		// Without metadata nothing can be tested; saying "not applicable"
		// to every scenario would pass a run that tested nothing.
		hint := ""
		if strings.Contains(err.Error(), "certificate") {
			hint = " (for a self-signed issuer, set tls.ca_file or tls.insecure in the target configuration, or pass -ca-file or -insecure)"
		}
		return fmt.Errorf("the discovery document of %s could not be read: %w%s", r.issuerID(), err, hint)
	}
	if err != nil {
		fmt.Fprintf(opts.Output, "  discovery failed, using the configured endpoints: %v\n", err)
		r.caps = issuer.NoDiscovery(err)
		r.meta = &issuer.Metadata{}
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
	if _, err := browser.FindChromium(); err != nil && opts.ChromiumPath == "" && opts.BrowserURL == "" {
		r.caps.Set("browser", false, "Chromium is not installed: "+err.Error())
	} else {
		r.caps.Set("browser", true, "")
	}

	r.profiles, err = browser.LoadProfiles(fixtures.Profiles, "profiles")
	if err != nil {
		return err
	}
	switch {
	case cfg.Profile == "" || cfg.Profile == issuer.ProfileAuto:
	case issuer.ProfileIsFile(cfg.Profile):
		if r.profile, err = browser.ReadProfileFile(cfg.Profile); err != nil {
			return err
		}
	default:
		p, ok := r.profiles[cfg.Profile]
		if !ok {
			return fmt.Errorf("no login profile named %q (have: %s; or give a profile file's path)", cfg.Profile, strings.Join(slices.Sorted(maps.Keys(r.profiles)), ", "))
		}
		r.profile = p
	}
	r.caps.Set("login_failure", r.profile == nil || r.profile.DetectsLoginFailure(), loginFailureWhy(r.profile))

	for _, uri := range cfg.RedirectURIs() {
		if _, ok := r.listeners[uri]; ok {
			continue // a registered client's own listener
		}
		lo, err := callback.OptionsFor(uri)
		if err != nil {
			return err
		}
		l, err := callback.Listen(lo)
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

func (r *run) startBrowser(opts Options) error {
	bo := browser.Options{
		ExecPath:      opts.ChromiumPath,
		ArtifactsDir:  r.artifacts,
		ActionTimeout: r.cfg.Timeouts.Browser,
		Warm:          opts.Concurrency,
	}
	switch {
	case r.cfg.TLS.Insecure:
		bo.IgnoreCertErrors = true
	case r.cfg.TLS.CAFile != "":
		certs, _, err := selfsigned.ReadFile(r.cfg.TLS.CAFile)
		if err != nil {
			return fmt.Errorf("tls.ca_file: %w", err)
		}
		for _, c := range certs {
			bo.TrustSPKI = append(bo.TrustSPKI, selfsigned.SPKIHash(c))
		}
	}
	for _, l := range r.listeners {
		if cert := l.Certificate(); cert != nil {
			bo.TrustSPKI = append(bo.TrustSPKI, selfsigned.SPKIHash(cert))
		}
	}
	start := browser.Start
	if opts.BrowserURL != "" {
		start = func(ctx context.Context, bo browser.Options) (*browser.Browser, error) {
			return browser.Connect(ctx, opts.BrowserURL, bo)
		}
	}
	b, err := start(r.ctx, bo)
	if err != nil {
		return err
	}
	r.browser = b
	return nil
}

func (r *run) close() {
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		if r.browser != nil {
			_ = r.browser.Close()
		}
		for _, l := range r.listeners {
			_ = l.Close()
		}
	}()
	r.waitClosed(closed)
}

// plan is the list of scenarios and which of them cannot apply.
type plan struct {
	total         int
	notApplicable []plannedScenario
	exclude       string
	needsBrowser  bool
}

type plannedScenario struct {
	name, feature, reason, uri string
	line                       int
	tags                       []string
}

// planScenarios reads the features to record, before the run, every
// selected scenario the target cannot run and why: godog would only skip
// them silently, and a skipped scenario must never look passed. Scenarios
// the tag selection or godog's paths (the name and FILE:LINE selection)
// leave out are not counted at all.
func planScenarios(files fs.FS, caps *issuer.Capabilities, selection tagExpression, paths []string) (*plan, error) {
	scenarios, err := features.Scenarios(files)
	if err != nil {
		return nil, fmt.Errorf("reading the features: %w", err)
	}
	p := &plan{}
	var used []string
	for _, sc := range scenarios {
		tags := make([]string, len(sc.Tags))
		for i, t := range sc.Tags {
			tags[i] = "@" + t
			if !slices.Contains(used, tags[i]) {
				used = append(used, tags[i])
			}
		}
		if !selection.matches(tags) || !inPaths(sc.URI, sc.Line, paths) {
			continue
		}
		p.total++
		if reasons := caps.NotApplicable(tags); len(reasons) > 0 {
			p.notApplicable = append(p.notApplicable, plannedScenario{
				name: sc.Name, feature: sc.Feature, tags: tags, reason: strings.Join(reasons, "; "), uri: sc.URI, line: sc.Line,
			})
		} else if slices.Contains(tags, "@needs:browser") {
			p.needsBrowser = true
		}
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
	scopes := issuer.Scopes(r.meta.ScopesSupported)
	if len(scopes) == 0 {
		scopes = issuer.Scopes{"openid", "profile", "email", "offline_access"}
	}
	for _, role := range []issuer.Role{issuer.RoleWeb, issuer.RolePublic, issuer.RoleOther} {
		if _, ok := r.cfg.Client(role); ok {
			continue
		}
		l, err := callback.Listen(callback.Options{Addr: "127.0.0.1:0", Path: "/callback", TLS: true})
		if err != nil {
			return err
		}
		r.listeners[l.URL()] = l
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeouts.HTTP)
		c, err := issuer.Register(ctx, r.http, r.meta, r.cfg.Registration, issuer.RegistrationFor(role, l.URL(), scopes))
		cancel()
		if err != nil {
			fmt.Fprintf(out, "  could not register %s: %v\n", aClient(string(role)), err)
			continue
		}
		c.RedirectURI, c.Scopes = l.URL(), scopes
		r.rep.AddSecrets(c.Secret)
		r.cfg.SetClient(role, c)
		fmt.Fprintf(out, "  registered %s: %s\n", aClient(string(role)), c.ID)
	}
	return nil
}
