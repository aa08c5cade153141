package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/oauthtrio/oauthtrio/steps"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/launch/iris"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
)

// targetIRISContainer is the --target value that starts IRIS in Docker.
const targetIRISContainer = "iris-container"

func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	issuerURL := fs.String("issuer", "", "issuer URL to test; empty runs against the built-in reference trio")
	configFile := fs.String("config", "", "target configuration (YAML, see fixtures/targets/example.yaml)")
	tags := fs.String("tags", "", `scenarios to run, as a tag expression (e.g. "@needs:pkce_s256 && ~@should")`)
	reportDir := fs.String("report", "reports", "directory for report.html, junit.xml, cucumber.json and artifacts")
	concurrency := fs.Int("concurrency", 4, "scenarios run at once")
	profile := fs.String("profile", "", `login page profile: reference, iris, node-oidc-provider or auto`)
	chromium := fs.String("chromium", "", "Chromium executable; default the installed chromium")
	caFile := fs.String("ca-file", "", "PEM certificate to trust for the issuer (overrides tls.ca_file)")
	insecure := fs.Bool("insecure", false, "accept any certificate from the issuer (throw-away test issuers only)")
	targetName := fs.String("target", "", `a target to start: iris-container (IRIS and its web gateway in Docker, image from $`+iris.EnvImage+`)`)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: oauthtrio check [flags]

Runs the conformance suite. Without -issuer and -config it starts the
reference trio on a free port and tests it. Exit status: 0 when no MUST
scenario failed, 1 when one did, 2 on a usage or set-up error.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "oauthtrio check: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var cfg *issuer.Config
	switch {
	case *targetName == "" && *configFile == "" && *issuerURL == "":
		ref, err := reference.Start(ctx, reference.Options{})
		if err != nil {
			fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
			return 2
		}
		defer func() {
			if err := ref.Close(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintf(stderr, "oauthtrio check: stopping the reference trio: %v\n", err)
			}
		}()
		cfg = ref.Config
	case *targetName != "" && (*configFile != "" || *issuerURL != ""):
		fmt.Fprintln(stderr, "oauthtrio check: -target starts its own issuer; it cannot be combined with -config or -issuer")
		return 2
	case *targetName == targetIRISContainer:
		inst, err := iris.Start(ctx, iris.Options{Log: stderr})
		if errors.Is(err, iris.ErrNoDocker) {
			fmt.Fprintf(stderr, "oauthtrio check: %v; -target %s needs a Docker engine, see README \"Testing a real IRIS\"\n", err, targetIRISContainer)
			return 2
		}
		if err != nil {
			fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
			return 2
		}
		defer func() {
			if err := inst.Terminate(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintf(stderr, "oauthtrio check: stopping the IRIS containers: %v\n", err)
			}
		}()
		cfg = inst.Config
		if !flagSet(fs, "concurrency") {
			// The Community Edition's licence allows few connections, and
			// every browser session takes some.
			*concurrency = 1
		}
	case *targetName != "":
		fmt.Fprintf(stderr, "oauthtrio check: unknown -target %q (known: %s)\n", *targetName, targetIRISContainer)
		return 2
	case *configFile != "":
		c, err := issuer.LoadConfig(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
			return 2
		}
		if *issuerURL != "" {
			c.Issuer = *issuerURL
		}
		cfg = c
	case *issuerURL != "":
		cfg = &issuer.Config{Issuer: *issuerURL, Profile: issuer.ProfileAuto}
		fmt.Fprintln(stderr, "oauthtrio check: no -config: only the scenarios that need no client or user can run")
	}
	if *caFile != "" {
		cfg.TLS.CAFile = *caFile
	}
	if *insecure {
		cfg.TLS.Insecure = true
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
		return 2
	}

	res, err := steps.Run(ctx, cfg, steps.Options{
		Tags:         strings.TrimSpace(*tags),
		ReportDir:    *reportDir,
		Concurrency:  *concurrency,
		Profile:      *profile,
		Output:       stdout,
		ChromiumPath: *chromium,
	})
	if err != nil {
		fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
		return 2
	}
	if res.Failed {
		return 1
	}
	return 0
}

// flagSet reports whether the command line set the flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
