package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/front"
	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// trioFlags are the flags serve and rotate-key share.
func trioFlags(fs *flag.FlagSet, cfg *trio.Config) {
	fs.StringVar(&cfg.StateDir, "state", "", "state directory (database, keys, certificate); default a per-user directory")
	fs.StringVar(&cfg.SigningAlgorithm, "signing-alg", "RS256", "JWS algorithm of tokens: RS256, PS256 or ES256")
}

func serve(args []string, stdout, stderr io.Writer) int {
	var cfg trio.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", front.DefaultAddr, "listen address (use port 0 for a free port)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "external base URL; default https://localhost:<port>")
	fs.StringVar(&cfg.CertFile, "cert", "", "TLS certificate file (PEM); default a generated self-signed one")
	fs.StringVar(&cfg.KeyFile, "key", "", "TLS private key file (PEM)")
	fs.StringVar(&cfg.Fixtures, "fixtures", "", "users and clients file; default the shipped fixtures/trio.yaml")
	fs.BoolVar(&cfg.RotateKey, "rotate-key", false, "add a new signing key at start; the previous one stays in the JWKS")
	fs.BoolVar(&cfg.AuthServer.EnablePKCEPlain, "pkce-plain", false, "allow code_challenge_method=plain (off: RFC 9700 §2.1.1)")
	fs.StringVar(&cfg.AuthServer.Registration, "registration", authserver.RegistrationOpen, "dynamic client registration: open, token or off")
	fs.StringVar(&cfg.AuthServer.InitialAccessToken, "initial-access-token", os.Getenv("OAUTHTRIO_INITIAL_ACCESS_TOKEN"), "initial access token for -registration token (env OAUTHTRIO_INITIAL_ACCESS_TOKEN)")
	fs.DurationVar(&cfg.AuthServer.AccessTokenLifespan, "access-token-lifespan", time.Hour, "access token lifetime")
	fs.DurationVar(&cfg.AuthServer.AuthorizeCodeLifespan, "code-lifespan", time.Minute, "authorization code lifetime")
	fs.DurationVar(&cfg.AuthServer.RefreshTokenLifespan, "refresh-token-lifespan", 24*time.Hour, "refresh token lifetime")
	verbose := fs.Bool("v", false, "log every request (never tokens or secrets)")
	trioFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		fmt.Fprintln(stderr, "oauthtrio serve: -cert and -key go together")
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t, err := trio.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "oauthtrio serve: %v\n", err)
		return 1
	}
	t.Front.Banner(stdout)
	fmt.Fprintf(stdout, "  state directory     %s\n", t.StateDir())
	fmt.Fprintln(stdout, "Press Ctrl+C to stop.")

	select {
	case <-ctx.Done():
	case <-t.Front.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Close(shutdown); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "oauthtrio serve: %v\n", err)
		return 1
	}
	return 0
}

// rotateKey adds a signing key to the state directory offline; a running
// server picks it up on its next start.
func rotateKey(args []string, stdout, stderr io.Writer) int {
	var cfg trio.Config
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.Duration("keep-previous", 2*time.Hour, "how long the previous key stays in the JWKS (cover the access token lifetime)")
	trioFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	kid, err := trio.RotateKey(context.Background(), cfg.StateDir, cfg.SigningAlgorithm, *keep)
	if err != nil {
		fmt.Fprintf(stderr, "oauthtrio rotate-key: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "new %s signing key %s is active; the previous key stays published for %s\n", cfg.SigningAlgorithm, kid, *keep)
	return 0
}
