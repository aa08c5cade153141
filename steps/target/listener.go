package target

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ListenerOptions configure a RedirectListener.
type ListenerOptions struct {
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

// ListenerFor derives the options that make a listener answer at a fixed
// redirect URI, such as https://127.0.0.1:8765/cb.
func ListenerFor(redirectURI string) (ListenerOptions, error) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Host == "" {
		return ListenerOptions{}, fmt.Errorf("redirect URI %q is not an absolute URL", redirectURI)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ListenerOptions{}, fmt.Errorf("redirect URI %q: the suite can only listen for http or https", redirectURI)
	}
	if !isLoopback(u.Hostname()) {
		return ListenerOptions{}, fmt.Errorf("redirect URI %q: the suite can only listen on this machine", redirectURI)
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
	return ListenerOptions{
		Addr: net.JoinHostPort(ip, port),
		Path: path,
		TLS:  u.Scheme == "https",
		Host: u.Host,
	}, nil
}

// Callback is one request that reached the redirection endpoint.
type Callback struct {
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

// RedirectListener is the suite's redirection endpoint: it records every
// authorization response and answers with a small page. Chromium really
// navigates there, so the listener must answer for the flow to end cleanly.
type RedirectListener struct {
	opts ListenerOptions
	srv  *http.Server
	ln   net.Listener
	cert *x509.Certificate
	base string

	mu        sync.Mutex
	callbacks []Callback
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
func (l *RedirectListener) Publish(contentType string, body []byte) string {
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

// NewRedirectListener starts listening. Close stops it.
func NewRedirectListener(opts ListenerOptions) (*RedirectListener, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Path == "" {
		opts.Path = "/cb"
	}
	if !strings.HasPrefix(opts.Path, "/") {
		return nil, fmt.Errorf("redirect listener: path %q must start with /", opts.Path)
	}
	l := &RedirectListener{opts: opts, changed: make(chan struct{})}

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("redirect listener: %w", err)
	}
	scheme := "http"
	if opts.TLS {
		cert := opts.Certificate
		if cert == nil {
			c, err := selfSignedCertificate()
			if err != nil {
				ln.Close()
				return nil, fmt.Errorf("redirect listener: %w", err)
			}
			cert = c
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
func (l *RedirectListener) URL() string { return l.base }

// Certificate is the TLS certificate served, nil for plain HTTP; pass
// browser.SPKIHash(l.Certificate()) to the browser to trust it.
func (l *RedirectListener) Certificate() *x509.Certificate { return l.cert }

// Close stops the listener and waits for pending requests briefly.
func (l *RedirectListener) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return l.srv.Shutdown(ctx)
}

// Callbacks returns every callback received so far.
func (l *RedirectListener) Callbacks() []Callback {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Callback(nil), l.callbacks...)
}

// WaitFor waits for the authorization response carrying state and returns
// it. With an empty state it returns the first callback carrying any
// parameters.
func (l *RedirectListener) WaitFor(ctx context.Context, state string) (*Callback, error) {
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

func (l *RedirectListener) record(c Callback) {
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
func (l *RedirectListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		l.record(Callback{Time: time.Now(), Method: "GET", Path: strings.TrimSuffix(r.URL.Path, fragmentSuffix), ResponseMode: "fragment", Params: params})
		w.WriteHeader(http.StatusNoContent)
		return
	}

	c := Callback{Time: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, ResponseMode: "query", Params: r.URL.Query()}
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

// selfSignedCertificate makes a short-lived certificate for the loopback
// names, so an HTTPS redirect URI works without any files.
func selfSignedCertificate() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "oauthtrio redirect listener"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	if len(der) == 0 {
		return nil, errors.New("empty certificate")
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
