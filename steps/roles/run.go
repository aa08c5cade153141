// Package roles checks the other two roles of the trio from outside:
// resource servers (oauthtrio check --resource) and clients, relying
// parties (oauthtrio check --client). The suite's own OpenID provider
// (package testop) is their issuer and bends its tokens and responses; the
// scenarios are the feature files of features/resource-server and
// features/client, reported like the issuer suite's.
package roles

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/features"
	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/report"
	"github.com/oauthtrio/oauthtrio/steps/testop"
)

// Options say which scenarios run and where the results go.
type Options struct {
	// Tags is a godog tag expression narrowing the run.
	Tags string
	// ReportDir receives report.html, junit.xml and cucumber.json; empty
	// writes no files.
	ReportDir string
	// Output receives the summary (default stdout).
	Output io.Writer
	// TestingT runs the scenarios as subtests of a test.
	TestingT *testing.T
	// ChromiumPath overrides the Chromium executable (client mode).
	ChromiumPath string
	// Browser, when set, is used instead of starting one (client mode); it
	// must trust the test OP's certificate and the client's.
	Browser *browser.Browser
}

// StartTestOP starts the test OP the configuration describes (test_op),
// with the clients the resource and client sections register, and writes
// its certificate to test_op.ca_out when set.
func StartTestOP(cfg *issuer.Config) (*testop.OP, error) {
	opts := testop.Options{
		Addr: cfg.TestOP.Addr,
		Host: cfg.TestOP.Host,
	}
	if cfg.TestOP.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TestOP.CertFile, cfg.TestOP.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("test_op.cert_file, test_op.key_file: %w", err)
		}
		opts.Certificate = &cert
	}
	if r := cfg.Resource; r != nil && r.Introspector != nil {
		opts.Clients = append(opts.Clients, testop.Client{ID: r.Introspector.ID, Secret: r.Introspector.Secret})
	}
	if rp := cfg.RelyingParty; rp != nil && rp.Registration != nil {
		reg := rp.Registration
		opts.Clients = append(opts.Clients, testop.Client{ID: reg.ID, Secret: reg.Secret, RedirectURIs: []string{reg.RedirectURI}})
	}
	op, err := testop.Start(opts)
	if err != nil {
		return nil, fmt.Errorf("test_op: %w", err)
	}
	if out := cfg.TestOP.CAOut; out != "" {
		if err := os.WriteFile(out, op.CertificatePEM(), 0o644); err != nil {
			op.Close()
			return nil, fmt.Errorf("test_op.ca_out: %w", err)
		}
	}
	return op, nil
}

// suite is one run of a role's features.
type suite struct {
	title, target string
	dir           string // the features' directory in features.Roles
	caps          *issuer.Capabilities
	init          func(sc *godog.ScenarioContext, rep *report.Report)
	secrets       []string
}

// run runs the suite's features and writes the reports.
func (s suite) run(ctx context.Context, opts Options) (*steps.Result, error) {
	if opts.Output == nil {
		opts.Output = os.Stdout
	}
	files, err := fs.Sub(features.Roles, s.dir)
	if err != nil {
		return nil, err
	}
	scenarios, err := features.Scenarios(files)
	if err != nil {
		return nil, fmt.Errorf("reading the features: %w", err)
	}
	selected, userTags, err := steps.TagSelection(opts.Tags)
	if err != nil {
		return nil, err
	}
	rep := report.New(s.title, s.target)
	rep.FeatureFS = files
	rep.AddSecrets(s.secrets...)
	var used []string
	total := 0
	for _, sc := range scenarios {
		tags := make([]string, len(sc.Tags))
		for i, t := range sc.Tags {
			tags[i] = "@" + t
			used = append(used, tags[i])
		}
		if !selected(tags) {
			continue
		}
		total++
		if reasons := s.caps.NotApplicable(tags); len(reasons) > 0 {
			rep.AddNotApplicable(sc.Name, sc.Feature, tags, strings.Join(reasons, "; ")).SetFeatureURI(sc.URI)
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("the tag expression %q selects no scenario", opts.Tags)
	}
	tags := steps.JoinTags(userTags, s.caps.ExcludeExpression(used))
	fmt.Fprintf(opts.Output, "oauthtrio check: %s\n  %d scenarios\n", s.target, total)
	godogOpts := &godog.Options{
		Format:         "progress",
		Output:         io.Discard,
		FS:             files,
		Paths:          []string{"."},
		Tags:           tags,
		Concurrency:    1,
		Strict:         true,
		NoColors:       true,
		TestingT:       opts.TestingT,
		DefaultContext: ctx,
	}
	godog.TestSuite{
		Name:                s.title,
		ScenarioInitializer: func(sc *godog.ScenarioContext) { s.init(sc, rep) },
		Options:             godogOpts,
	}.Run()
	interrupted := ctx.Err() != nil
	if interrupted {
		rep.Interrupt(context.Cause(ctx).Error())
	}
	if opts.ReportDir != "" {
		if err := rep.WriteAll(opts.ReportDir); err != nil {
			return nil, fmt.Errorf("writing the reports: %w", err)
		}
	}
	rep.Summary(opts.Output)
	if opts.ReportDir != "" {
		fmt.Fprintf(opts.Output, "Reports: %s\n", filepath.Join(opts.ReportDir, "report.html"))
	}
	return &steps.Result{Report: rep, Failed: rep.Failed(), Interrupted: interrupted}, nil
}

// capabilities are the preconditions of a role's scenarios, all decided by
// the configuration.
func capabilities(set map[string]capability) *issuer.Capabilities {
	caps := (&issuer.Metadata{}).Capabilities()
	for name, c := range set {
		caps.Set(name, c.ok, c.why)
	}
	return caps
}

type capability struct {
	ok  bool
	why string
}
