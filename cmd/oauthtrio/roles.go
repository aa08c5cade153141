package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/roles"
)

// roleFlags are check's flags for the other two roles: a resource server
// or a client under test, with the suite's own OpenID provider as issuer.
type roleFlags struct {
	resource, client string
}

func (rf *roleFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&rf.resource, "resource", "", "check a resource server: its protected URL (overrides resource.url); it must trust the test OP (test_op in the configuration)")
	fs.StringVar(&rf.client, "client", "", "check a client (relying party): the URL where its login starts (overrides client.url); it must use the test OP as its issuer")
}

func (rf *roleFlags) set() bool { return rf.resource != "" || rf.client != "" }

// conflicts names the flags and arguments of the issuer suite that a role
// check cannot take, or "".
func (rf *roleFlags) conflicts(fs *flag.FlagSet, locations []string) string {
	var bad []string
	for _, name := range []string{"issuer", "target", "features", "name", "profile", "concurrency", "shard", "shard-durations", "browser-url"} {
		if flagSet(fs, name) {
			bad = append(bad, "--"+name)
		}
	}
	bad = append(bad, locations...)
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: not for --resource or --client, whose issuer is the test OP and whose features are their own (select with --tags)", strings.Join(bad, ", "))
}

// roleRun is what checkRole needs of check's other flags.
type roleRun struct {
	configFile, reportDir, tags, chromium, caFile string
	insecure                                      bool
}

// checkRole runs the resource-server or client checks. Its exit statuses
// are check's.
func (rf *roleFlags) checkRole(run roleRun, stdout, stderr io.Writer) int {
	if rf.resource != "" && rf.client != "" {
		return checkCommand.usageError(stderr, "--resource and --client each run their own checks: give one")
	}
	cfg := &issuer.Config{}
	if run.configFile != "" {
		cf, err := issuer.LoadConfig(run.configFile)
		if err != nil {
			fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
			return exitUsage
		}
		cfg = cf
	}
	switch {
	case rf.resource != "":
		if cfg.Resource == nil {
			cfg.Resource = &issuer.Resource{}
		}
		cfg.Resource.URL = rf.resource
		cfg.RelyingParty = nil
	case cfg.RelyingParty == nil:
		return checkCommand.usageError(stderr, "--client needs --config with a client section (the client's profile and its registration at the test OP)")
	default:
		cfg.RelyingParty.URL = rf.client
		cfg.Resource = nil
	}
	if run.caFile != "" {
		cfg.TLS.CAFile = run.caFile
	}
	if run.insecure {
		cfg.TLS.Insecure = true
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "oauthtrio check: %v\n", err)
		return exitUsage
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	op, err := roles.StartTestOP(cfg)
	if err != nil {
		return failed(ctx, stderr, err)
	}
	defer op.Close()
	fmt.Fprintf(stdout, "test OP: %s", op.Issuer())
	if cfg.TestOP.CAOut != "" {
		fmt.Fprintf(stdout, " (certificate in %s)", cfg.TestOP.CAOut)
	}
	fmt.Fprintln(stdout)

	opts := roles.Options{Tags: strings.TrimSpace(run.tags), ReportDir: run.reportDir, Output: stdout, ChromiumPath: run.chromium}
	run1 := roles.RunResource
	if rf.client != "" {
		run1 = roles.RunClient
	}
	res, err := run1(ctx, cfg, op, opts)
	if err != nil {
		return failed(ctx, stderr, err)
	}
	switch {
	case res.Interrupted:
		return exitInterrupted
	case res.Failed:
		return 1
	}
	return 0
}
