package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"slices"
	"strings"
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

var serveCommand = command{
	name:     "serve",
	synopsis: "[flags]",
	summary:  "run the reference trio (authorization server, resource server, web client) behind one HTTPS front",
	details: `The state directory keeps the database, the signing keys and the generated
certificate between runs. The banner lists the URLs; Ctrl+C stops.
Exit status: 0 after a clean stop, 1 when the trio fails, 2 on a usage error.`,
	examples: `oauthtrio serve
oauthtrio serve --addr :8443 --public-url https://idp.example.test:8443
oauthtrio serve --registration token --initial-access-token "$TOKEN"
oauthtrio serve --client-issuer https://idp.example.org --client-id web --client-secret "$SECRET"`,
}

var rotateKeyCommand = command{
	name:     "rotate-key",
	synopsis: "[flags]",
	summary:  "add a new signing key to the state directory; the previous one stays published",
	details:  `A running server picks the new key up on its next start.`,
	examples: `oauthtrio rotate-key --state ~/.local/state/oauthtrio
oauthtrio rotate-key --signing-alg ES256 --keep-previous 24h`,
}

// signingAlgs are the --signing-alg values.
var signingAlgs = []string{"RS256", "PS256", "ES256"}

// checkTrioFlags reports a usage mistake in the flags trioFlags defines.
func checkTrioFlags(cfg *trio.Config) string {
	if !slices.Contains(signingAlgs, cfg.SigningAlgorithm) {
		return fmt.Sprintf("--signing-alg %s: want one of %s", cfg.SigningAlgorithm, strings.Join(signingAlgs, ", "))
	}
	return ""
}

// checkServeFlags reports a usage mistake that would otherwise surface
// only once the trio runs (or at the first login).
func checkServeFlags(cfg *trio.Config) string {
	modes := []string{authserver.RegistrationOpen, authserver.RegistrationToken, authserver.RegistrationOff}
	as, wc, rs := &cfg.AuthServer, &cfg.WebClient, &cfg.ResourceServer
	switch {
	case !slices.Contains(modes, as.Registration):
		return fmt.Sprintf("--registration %s: want one of %s", as.Registration, strings.Join(modes, ", "))
	case as.Registration == authserver.RegistrationToken && as.InitialAccessToken == "":
		return "--registration token needs --initial-access-token or OAUTHTRIO_INITIAL_ACCESS_TOKEN"
	case (rs.Issuer != "") != (rs.ClientID != ""):
		return "--rs-issuer needs --rs-client-id, and --rs-client-id needs --rs-issuer"
	case (wc.Issuer != "") != (wc.ClientID != ""):
		return "--client-issuer needs --client-id, and --client-id needs --client-issuer"
	case wc.Issuer != "" && wc.ClientSecret == "":
		return "--client-issuer needs --client-secret or OAUTHTRIO_CLIENT_SECRET: the web client is confidential"
	case (cfg.CertFile == "") != (cfg.KeyFile == ""):
		return "--cert and --key go together"
	}
	return checkTrioFlags(cfg)
}

func serve(args []string, stdout, stderr io.Writer) int {
	var cfg trio.Config
	c := serveCommand
	fs := c.newFlagSet(stderr)
	fs.StringVar(&cfg.Addr, "addr", front.DefaultAddr, "listen address (use port 0 for a free port)")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "external base URL; default https://localhost:<port>")
	fs.StringVar(&cfg.CertFile, "cert", "", "TLS certificate file (PEM); default a generated self-signed one")
	fs.StringVar(&cfg.KeyFile, "key", "", "TLS private key file (PEM)")
	fs.StringVar(&cfg.Fixtures, "fixtures", "", "users and clients file; default the shipped fixtures/trio.yaml")
	fs.BoolVar(&cfg.RotateKey, "rotate-key", false, "add a new signing key at start; the previous one stays in the JWKS")
	fs.BoolVar(&cfg.AuthServer.EnablePKCEPlain, "pkce-plain", false, "allow code_challenge_method=plain (off: RFC 9700 §2.1.1)")
	fs.StringVar(&cfg.AuthServer.Registration, "registration", authserver.RegistrationOpen, "dynamic client registration: open, token or off")
	fs.StringVar(&cfg.AuthServer.InitialAccessToken, "initial-access-token", os.Getenv("OAUTHTRIO_INITIAL_ACCESS_TOKEN"), "initial access token for --registration token (env OAUTHTRIO_INITIAL_ACCESS_TOKEN)")
	var regGrants, regScopes, regAudience string
	fs.StringVar(&regGrants, "registration-grants", "", `grant types a self-registered client may have; default "authorization_code refresh_token"`)
	fs.StringVar(&regScopes, "registration-scopes", "", `scopes a self-registered client may have; default "openid profile email offline_access"`)
	fs.StringVar(&regAudience, "registration-audience", "", `audiences (resource servers) a self-registered client gets, e.g. "{public_url}/resserver"; default none`)
	fs.DurationVar(&cfg.AuthServer.AccessTokenLifespan, "access-token-lifespan", time.Hour, "access token lifetime")
	fs.DurationVar(&cfg.AuthServer.AuthorizeCodeLifespan, "code-lifespan", time.Minute, "authorization code lifetime")
	fs.DurationVar(&cfg.AuthServer.RefreshTokenLifespan, "refresh-token-lifespan", 24*time.Hour, "refresh token lifetime")
	rs := &cfg.ResourceServer
	fs.StringVar(&rs.Issuer, "rs-issuer", "", "point the resource server at this issuer instead of the trio's own")
	fs.StringVar(&rs.Audience, "rs-audience", "", "the resource server's identifier in tokens; default <public-url>/resserver")
	fs.StringVar(&rs.ClientID, "rs-client-id", "", "client id the resource server introspects with (with --rs-issuer)")
	fs.StringVar(&rs.ClientSecret, "rs-client-secret", os.Getenv("OAUTHTRIO_RS_CLIENT_SECRET"), "its secret (env OAUTHTRIO_RS_CLIENT_SECRET)")
	fs.StringVar(&rs.RequiredScope, "rs-scope", "", "scope the protected resource requires; default my/scope")
	fs.StringVar(&rs.CAFile, "rs-ca-file", "", "CA certificate to trust for --rs-issuer")
	wc := &cfg.WebClient
	var clientScopes string
	fs.StringVar(&wc.Issuer, "client-issuer", "", "point the web client at this issuer instead of the trio's own")
	fs.StringVar(&wc.ClientID, "client-id", "", "the web client's id at --client-issuer")
	fs.StringVar(&wc.ClientSecret, "client-secret", os.Getenv("OAUTHTRIO_CLIENT_SECRET"), "its secret (env OAUTHTRIO_CLIENT_SECRET)")
	fs.StringVar(&clientScopes, "client-scopes", "", `scopes the web client asks for; default "openid profile email my/scope offline_access"`)
	fs.StringVar(&wc.RedirectURL, "client-redirect-url", "", "the web client's redirect URI; default <public-url>/client/application/callback")
	fs.StringVar(&wc.CAFile, "client-ca-file", "", "CA certificate to trust for --client-issuer")
	verbose := fs.Bool("v", false, "log every request (never tokens or secrets)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiling endpoints (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060")
	trioFlags(fs, &cfg)
	rest, status, ok := c.parse(fs, args, stdout, stderr)
	if !ok {
		return status
	}
	if len(rest) > 0 {
		return c.usageError(stderr, "unexpected argument %q", rest[0])
	}
	wc.Scopes = strings.Fields(clientScopes)
	cfg.AuthServer.RegistrationPolicy = authserver.RegistrationPolicy{
		GrantTypes: strings.Fields(regGrants), Scopes: strings.Fields(regScopes), Audience: strings.Fields(regAudience),
	}
	if msg := checkServeFlags(&cfg); msg != "" {
		return c.usageError(stderr, "%s", msg)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if faults := trio.ActiveFaults(); len(faults) > 0 {
		// The self-test breaks the reference on purpose; nobody should
		// mistake such a server for the real one.
		fmt.Fprintf(stderr, "WARNING: deliberate faults are switched on (%s=%s): this server breaks the specifications on purpose\n",
			trio.FaultsEnv, strings.Join(faults, ","))
	}

	var profiler *http.Server
	if *pprofAddr != "" {
		ln, err := listenLoopback(*pprofAddr)
		if err != nil {
			fmt.Fprintf(stderr, "oauthtrio serve: -pprof: %v\n", err)
			return 2
		}
		profiler = &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = profiler.Serve(ln) }()
		defer profiler.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t, err := trio.Start(ctx, cfg)
	var inUse *trio.StateInUseError
	if errors.As(err, &inUse) {
		fmt.Fprintf(stderr, "oauthtrio serve: %v\n", err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "oauthtrio serve: %v\n", err)
		return 1
	}
	t.Front.Banner(stdout)
	fmt.Fprintf(stdout, "  state directory     %s\n", t.StateDir())
	if profiler != nil {
		fmt.Fprintf(stdout, "  profiling           http://%s/debug/pprof/\n", *pprofAddr)
	}
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

// listenLoopback listens on addr, which must name a loopback address: the
// profiling endpoints have no authentication and reveal the process's
// memory, so they must not be reachable from another machine.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%q is not a loopback address (use 127.0.0.1, ::1 or localhost)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	// localhost could resolve elsewhere; check where the socket really is.
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("%q did not resolve to a loopback address", addr)
	}
	return ln, nil
}

// pprofHandler serves net/http/pprof on a mux of its own, never on
// http.DefaultServeMux, which the import also registers the handlers on.
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// rotateKey adds a signing key to the state directory offline; a running
// server picks it up on its next start.
func rotateKey(args []string, stdout, stderr io.Writer) int {
	var cfg trio.Config
	c := rotateKeyCommand
	fs := c.newFlagSet(stderr)
	keep := fs.Duration("keep-previous", 2*time.Hour, "how long the previous key stays in the JWKS (cover the access token lifetime)")
	trioFlags(fs, &cfg)
	rest, status, ok := c.parse(fs, args, stdout, stderr)
	if !ok {
		return status
	}
	if len(rest) > 0 {
		return c.usageError(stderr, "unexpected argument %q", rest[0])
	}
	if msg := checkTrioFlags(&cfg); msg != "" {
		return c.usageError(stderr, "%s", msg)
	}
	kid, err := trio.RotateKey(context.Background(), cfg.StateDir, cfg.SigningAlgorithm, *keep)
	if err != nil {
		fmt.Fprintf(stderr, "oauthtrio rotate-key: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "new %s signing key %s is active; the previous key stays published for %s\n", cfg.SigningAlgorithm, kid, *keep)
	return 0
}
