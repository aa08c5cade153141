// Package callback is the suite's redirect-URI listener: a loopback HTTP(S)
// server that receives the issuer's authorization responses (query,
// fragment and form_post) and hands each to the scenario waiting for its
// state.
package callback

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oauthtrio/oauthtrio/internal/selfsigned"
)

// Options configure a Listener.
type Options struct {
	// Addr is host:port to listen on; the default 127.0.0.1:0 picks a free
	// port. A client with a fixed redirect URI needs that exact port.
	Addr string
	// Path is the redirection endpoint's path (default /cb). Requests under
	// it (/cb/other) are recorded too, for unregistered-URI checks.
	Path string
	// TLS serves HTTPS, with Certificate or else a fresh self-signed one.
	TLS         bool
	Certificate *tls.Certificate
	// Host is the host name the URL uses (default: the listening address's);
	// it must be what the client registered, e.g. localhost.
	Host string
}

// OptionsFor derives the options that make a listener answer at a fixed
// redirect URI, such as https://127.0.0.1:8765/cb.
func OptionsFor(redirectURI string) (Options, error) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Host == "" {
		return Options{}, fmt.Errorf("redirect URI %q is not an absolute URL", redirectURI)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Options{}, fmt.Errorf("redirect URI %q: the suite can only listen for http or https", redirectURI)
	}
	if !isLoopback(u.Hostname()) {
		return Options{}, fmt.Errorf("redirect URI %q: the suite can only listen on this machine", redirectURI)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ip := u.Hostname()
	if ip == "localhost" || strings.HasSuffix(ip, ".localhost") {
		ip = "127.0.0.1"
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return Options{
		Addr: net.JoinHostPort(ip, port),
		Path: path,
		TLS:  u.Scheme == "https",
		Host: u.Host,
	}, nil
}

// Response is one request that reached the redirection endpoint.
type Response struct {
	Time   time.Time
	Method string
	Path   string
	// ResponseMode is how the parameters came: query, fragment (posted back
	// by the page's script) or form_post.
	ResponseMode string
	// Params are the authorization response parameters.
	Params url.Values
	// RawQuery is the query string as received.
	RawQuery string
}

// Listener is the suite's redirection endpoint: it records every
// authorization response and answers with a small page. Chromium really
// navigates there, so the listener must answer for the flow to end cleanly.
type Listener struct {
	opts Options
	srv  *http.Server
	ln   net.Listener
	cert *x509.Certificate
	base string

	mu        sync.Mutex
	callbacks []Response
	changed   chan struct{}
	published map[string]publication
}

type publication struct {
	contentType string
	body        []byte
}

// publishedSuffix is where Publish serves documents, below the redirect path.
const publishedSuffix = "/.published/"

// Publish serves body at a new unguessable URL under the listener, for an
// issuer to fetch (a request object passed by request_uri, OIDC Core §6.2).
func (l *Listener) Publish(contentType string, body []byte) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	l.mu.Lock()
	if l.published == nil {
		l.published = map[string]publication{}
	}
	l.published[id] = publication{contentType, append([]byte(nil), body...)}
	l.mu.Unlock()
	return strings.TrimSuffix(l.base, "/") + publishedSuffix + id
}

// Listen starts listening. Close stops it.
func Listen(opts Options) (*Listener, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Path == "" {
		opts.Path = "/cb"
	}
	if !strings.HasPrefix(opts.Path, "/") {
		return nil, fmt.Errorf("redirect listener: path %q must start with /", opts.Path)
	}
	l := &Listener{opts: opts, changed: make(chan struct{})}

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("redirect listener: %w", err)
	}
	scheme := "http"
	if opts.TLS {
		cert := opts.Certificate
		if cert == nil {
			c, err := selfsigned.New(selfsigned.Options{CommonName: "oauthtrio redirect listener", Hosts: []string{"localhost", "127.0.0.1", "::1"}})
			if err != nil {
				ln.Close()
				return nil, fmt.Errorf("redirect listener: %w", err)
			}
			cert = &c.TLS
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("redirect listener: certificate: %w", err)
		}
		l.cert = leaf
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	l.ln = ln
	host := opts.Host
	if host == "" {
		host = ln.Addr().String()
	} else if _, port, err := net.SplitHostPort(host); err != nil || port == "" {
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		host = net.JoinHostPort(strings.Trim(host, "[]"), p)
	}
	l.base = scheme + "://" + host + opts.Path

	l.srv = &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// URL is the redirect URI to register and send.
func (l *Listener) URL() string { return l.base }

// Certificate is the TLS certificate served, nil for plain HTTP; pass
// selfsigned.SPKIHash(l.Certificate()) to the browser to trust it.
func (l *Listener) Certificate() *x509.Certificate { return l.cert }

// Close stops the listener and waits for pending requests briefly.
func (l *Listener) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return l.srv.Shutdown(ctx)
}

// Callbacks returns every callback received so far.
func (l *Listener) Callbacks() []Response {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Response(nil), l.callbacks...)
}

// WaitFor waits for the authorization response carrying state and returns
// it. With an empty state it returns the first callback carrying any
// parameters.
func (l *Listener) WaitFor(ctx context.Context, state string) (*Response, error) {
	for {
		l.mu.Lock()
		for i := range l.callbacks {
			c := l.callbacks[i]
			if (state == "" && len(c.Params) > 0) || (state != "" && c.Params.Get("state") == state) {
				l.mu.Unlock()
				return &c, nil
			}
		}
		changed := l.changed
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("redirect listener: no authorization response with state %q at %s: %w", state, l.base, ctx.Err())
		case <-changed:
		}
	}
}

func (l *Listener) record(c Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.callbacks = append(l.callbacks, c)
	close(l.changed)
	l.changed = make(chan struct{})
}

// fragmentSuffix is where the answer page posts a fragment back: a browser
// never sends the fragment to a server by itself.
const fragmentSuffix = "/.fragment"

// ServeHTTP records requests under the redirect path and answers them.
func (l *Listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimSuffix(l.opts.Path, "/")
	if r.URL.Path != l.opts.Path && !strings.HasPrefix(r.URL.Path, base+"/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")

	if id, ok := strings.CutPrefix(r.URL.Path, base+publishedSuffix); ok && r.Method == http.MethodGet {
		l.mu.Lock()
		p, found := l.published[id]
		l.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", p.contentType)
		_, _ = w.Write(p.body)
		return
	}

	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, fragmentSuffix) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		params, err := url.ParseQuery(strings.TrimPrefix(string(body), "#"))
		if err != nil {
			http.Error(w, "bad fragment", http.StatusBadRequest)
			return
		}
		l.record(Response{Time: time.Now(), Method: "GET", Path: strings.TrimSuffix(r.URL.Path, fragmentSuffix), ResponseMode: "fragment", Params: params})
		w.WriteHeader(http.StatusNoContent)
		return
	}

	c := Response{Time: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, ResponseMode: "query", Params: r.URL.Query()}
	if r.Method == http.MethodPost {
		// OAuth 2.0 Form Post Response Mode: parameters in the body.
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err == nil {
			c.ResponseMode = "form_post"
			c.Params = r.PostForm
		}
	}
	l.record(c)

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, answerPage)
}

// answerPage is what the browser shows at the end of a flow. Its script
// sends a fragment response (response_mode=fragment) back to the listener.
const answerPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>oauthtrio: authorization response received</title></head>
<body id="oauthtrio-callback"><p>oauthtrio received the authorization response. This window can be closed.</p>
<script>
if (location.hash.length > 1) {
  fetch(location.pathname.replace(/\/$/, "") + "` + fragmentSuffix + `", {method: "POST", body: location.hash.slice(1)});
}
</script>
</body></html>
`

// isLoopback reports whether host names this machine (RFC 8252 §8.3).
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
