package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/launch/iris"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
)

// targetIRISContainer is the --target value that starts IRIS in Docker.
const targetIRISContainer = "iris-container"

var checkCommand = command{
	name:     "check",
	synopsis: "[flags] [FILE.feature[:LINE] ...]",
	summary:  "run the conformance suite against an issuer",
	details: `Without --issuer, --config and --target it starts the reference trio on a
free port and tests it. FILE.feature[:LINE] arguments and --name narrow the
run, as with cucumber and godog; --features adds your own feature files,
which use the shipped steps.

With --resource URL or --client URL it checks a resource server or a
client instead, with the suite's own OpenID provider as their issuer (the
test_op, resource and client sections of --config; README "The other two
roles").

Exit status: 0 when no MUST scenario failed, 1 when one did, 2 on a usage
or set-up error, 130 when interrupted (SIGINT or SIGTERM; the reports are
then partial and marked INTERRUPTED).`,
	examples: `oauthtrio check
oauthtrio check --config fixtures/targets/example.yaml --report reports
oauthtrio check --issuer https://idp.example.org/realms/test --insecure
oauthtrio check --tags '@needs:pkce_s256 && ~@should'
oauthtrio check --name 'PKCE' features/authorize.feature:12
oauthtrio check --features my-features --quiet
oauthtrio check --config target.yaml --shard 2/3 --shard-durations last-run --report reports/shard-2
oauthtrio check --config rs.yaml --resource https://api.example.org/items
oauthtrio check --config app.yaml --client https://app.example.org/`,
}

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func check(args []string, stdout, stderr io.Writer) int {
	c := checkCommand
	fs := c.newFlagSet(stderr)
	issuerURL := fs.String("issuer", "", "issuer URL to test; empty runs against the built-in reference trio")
	configFile := fs.String("config", "", "target configuration (YAML, see fixtures/targets/example.yaml)")
	tags := fs.String("tags", "", `scenarios to run, as a tag expression (e.g. "@needs:pkce_s256 && ~@should")`)
	name := fs.String("name", "", "run only the scenarios whose name matches this regular expression")
	var extra listFlag
	fs.Var(&extra, "features", "a directory of your own .feature files to run beside the shipped ones (repeatable)")
	reportDir := fs.String("report", "reports", "directory for report.html, junit.xml, cucumber.json and artifacts")
	concurrency := fs.Int("concurrency", 0, "scenarios run at once (default: the configuration's concurrency, or 4)")
	profile := fs.String("profile", "", `login page profile: a shipped one (reference, iris, node-oidc-provider, glewlwyd, generic-form), a profile file, or auto`)
	chromium := fs.String("chromium", "", "Chromium executable; default the installed chromium-headless-shell, else chromium")
	caFile := fs.String("ca-file", "", "PEM certificate to trust for the issuer (overrides tls.ca_file)")
	insecure := fs.Bool("insecure", false, "accept any certificate from the issuer (throw-away test issuers only)")
	quiet := fs.Bool("quiet", false, "print only the summary")
	scale := addScaleFlags(fs)
	var rf roleFlags
	rf.bind(fs)
	targetName := fs.String("target", "", `a target to start: iris-container (IRIS and its web gateway in Docker, image from $`+iris.EnvImage+`)`)
	locations, status, ok := c.parse(fs, args, stdout, stderr)
	if !ok {
		return status
	}
	shard, err := scale.parseShard()
	if err == nil {
		err = scale.checkBrowserURL()
	}
	if err != nil {
		return c.usageError(stderr, "%v", err)
	}
	if rf.set() {
		if msg := rf.conflicts(fs, locations); msg != "" {
			return c.usageError(stderr, "%s", msg)
		}
		return rf.checkRole(roleRun{configFile: *configFile, reportDir: *reportDir, tags: *tags, chromium: *chromium, caFile: *caFile, insecure: *insecure}, stdout, stderr)
	}
	if *concurrency < 0 || (flagSet(fs, "concurrency") && *concurrency == 0) {
		return c.usageError(stderr, "--concurrency %d: want 1 or more", *concurrency)
	}
	if *issuerURL != "" {
		if msg := issuerMistake(*issuerURL); msg != "" {
			return c.usageError(stderr, "--issuer %s: %s", *issuerURL, msg)
		}
	}
	ctx, stop := interruptible(stderr)
	defer stop()

	var cfg *issuer.Config
	switch {
	case *targetName == "" && *configFile == "" && *issuerURL == "":
		ref, err := reference.Start(ctx, reference.Options{})
		if err != nil {
			return failed(ctx, stderr, err)
		}
		defer func() {
			cctx, cancel := context.WithoutCancel(ctx), func() {}
			if ctx.Err() != nil {
				// Bounded: an interrupted run leaves requests in flight.
				cctx, cancel = context.WithTimeout(cctx, time.Second)
			}
			defer cancel()
			if err := ref.Close(cctx); err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "oauthtrio check: stopping the reference trio: %v\n", err)
			}
		}()
		cfg = ref.Config
	case *targetName != "" && (*configFile != "" || *issuerURL != ""):
		return c.usageError(stderr, "--target starts its own issuer; it cannot be combined with --config or --issuer")
	case *targetName == targetIRISContainer:
		inst, err := iris.Start(ctx, iris.Options{Log: stderr})
		if errors.Is(err, iris.ErrNoDocker) {
			fmt.Fprintf(stderr, "oauthtrio check: %v; --target %s needs a Docker engine, see README \"Testing a real IRIS\"\n", err, targetIRISContainer)
			return exitUsage
		}
		if err != nil {
			return failed(ctx, stderr, err)
		}
		defer func() {
			if err := inst.Terminate(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintf(stderr, "oauthtrio check: stopping the IRIS containers: %v\n", err)
			}
		}()
		cfg = inst.Config
	case *targetName != "":
		msg := fmt.Sprintf("unknown --target %q (known: %s)", *targetName, targetIRISContainer)
		if s := nearest(*targetName, []string{targetIRISContainer}); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		}
		return c.usageError(stderr, "%s", msg)
	case *configFile != "":
		cf, err := issuer.LoadConfig(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
			return exitUsage
		}
		if *issuerURL != "" {
			cf.Issuer = *issuerURL
		}
		cfg = cf
	case *issuerURL != "":
		cfg = &issuer.Config{Issuer: *issuerURL, Profile: issuer.ProfileAuto}
		fmt.Fprintln(stderr, "oauthtrio check: no --config: only the scenarios that need no client or user can run")
	}
	if *caFile != "" {
		cfg.TLS.CAFile = *caFile
	}
	if *insecure {
		cfg.TLS.Insecure = true
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
		return exitUsage
	}

	opts := steps.Options{
		Tags:          strings.TrimSpace(*tags),
		ReportDir:     *reportDir,
		Concurrency:   *concurrency,
		Profile:       *profile,
		Output:        stdout,
		ChromiumPath:  *chromium,
		ExtraFeatures: extra,
		Select:        steps.Selection{Name: *name, Locations: locations},
		Color:         steps.IsTerminal(stdout) && os.Getenv("NO_COLOR") == "",
	}
	if *quiet {
		opts.Progress = steps.ProgressQuiet
	}
	opts.Shard, opts.BrowserURL = shard, *scale.browserURL
	res, err := steps.Run(ctx, cfg, opts)
	if err != nil {
		return failed(ctx, stderr, withHint(err, cfg))
	}
	switch {
	case res.Interrupted:
		return exitInterrupted
	case res.Failed:
		return 1
	}
	return 0
}

// failed reports a set-up error: exit 2, or 130 when it came from an
// interrupt.
func failed(ctx context.Context, stderr io.Writer, err error) int {
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "oauthtrio check: interrupted (%v) before the suite ran\n", context.Cause(ctx))
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
	return exitUsage
}

// issuerMistake names a common mistake in an --issuer value, or "".
func issuerMistake(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return err.Error()
	}
	for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		if i := strings.Index(u.Path, doc); i >= 0 {
			iss := *u
			// RFC 8414 §3.1 puts the well-known part before the issuer's path.
			iss.Path = u.Path[:i] + u.Path[i+len(doc):]
			return fmt.Sprintf("pass the issuer, not its discovery document: --issuer %s", strings.TrimSuffix(iss.String(), "/"))
		}
	}
	return ""
}

// withHint adds what the user can do about the common set-up failures.
func withHint(err error, cfg *issuer.Config) error {
	msg := err.Error()
	c := cfg.Clone()
	c.ApplyDefaults()
	switch {
	case strings.HasPrefix(c.Issuer, "http://") && speaksTLS(c.Issuer):
		return fmt.Errorf("%w\nthis server speaks HTTPS: use https:// in the issuer", err)
	case strings.Contains(msg, "deadline exceeded") || strings.Contains(msg, "Client.Timeout") || strings.Contains(msg, "i/o timeout"):
		return fmt.Errorf("%w\nno answer within timeouts.http = %s: is the host right and reachable? (raise timeouts.http in the target configuration for a slow issuer)", err, c.Timeouts.HTTP)
	}
	return err
}

// speaksTLS tells whether the host of an http:// URL completes a TLS
// handshake on its port: then the http:// was a mistake.
func speaksTLS(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second}, Config: &tls.Config{InsecureSkipVerify: true}} // #nosec G402: only asks whether TLS is spoken
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// flagSet reports whether the command line set the flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
