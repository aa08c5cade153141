package resserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxDocumentSize bounds what is read from the authorization server.
const maxDocumentSize = 1 << 20

// retryAfterFailure is how long a failed discovery is remembered, so a down
// authorization server is not asked again on every request.
const retryAfterFailure = 2 * time.Second

// fetchTimeout bounds a discovery or JWKS fetch.
const fetchTimeout = 10 * time.Second

// sharedFetchContext detaches a fetch from the request that triggered it:
// the result is cached for every request, so one caller going away must not
// turn into a cached failure.
func sharedFetchContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
}

// getJSON fetches where and decodes its JSON body into dst.
func getJSON(ctx context.Context, client *http.Client, where string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", where, resp.StatusCode)
	}
	return decodeJSON(resp, dst)
}

// decodeJSON reads a bounded JSON body whose media type is JSON.
func decodeJSON(resp *http.Response, dst any) error {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return fmt.Errorf("%s: content type %q is not JSON", resp.Request.URL, resp.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if err != nil {
		return err
	}
	if len(body) > maxDocumentSize {
		return fmt.Errorf("%s: body larger than %d bytes", resp.Request.URL, maxDocumentSize)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(dst)
}

// discovery holds the endpoints the Verifier needs, read once from the
// issuer's OpenID Provider metadata unless configured.
type discovery struct {
	issuer string
	client *http.Client
	now    func() time.Time

	mu               sync.Mutex
	jwksURL          string
	introspectionURL string
	failedAt         time.Time
	failure          error
}

// endpoints returns the JWKS and introspection URLs, fetching the discovery
// document when either was not configured.
func (d *discovery) endpoints(ctx context.Context) (jwksURL, introspectionURL string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.jwksURL != "" && d.introspectionURL != "" {
		return d.jwksURL, d.introspectionURL, nil
	}
	if d.failure != nil && d.now().Sub(d.failedAt) < retryAfterFailure {
		return "", "", d.failure
	}
	var doc struct {
		Issuer                string `json:"issuer"`
		JWKSURI               string `json:"jwks_uri"`
		IntrospectionEndpoint string `json:"introspection_endpoint"`
	}
	where := strings.TrimSuffix(d.issuer, "/") + "/.well-known/openid-configuration"
	ctx, cancel := sharedFetchContext(ctx)
	defer cancel()
	err = getJSON(ctx, d.client, where, &doc)
	// OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be
	// exactly the one it was fetched for.
	if err == nil && doc.Issuer != d.issuer {
		err = fmt.Errorf("discovery issuer %q differs from %q", doc.Issuer, d.issuer)
	}
	if err == nil && (doc.JWKSURI == "" && d.jwksURL == "" || doc.IntrospectionEndpoint == "" && d.introspectionURL == "") {
		err = errors.New("discovery document lacks jwks_uri or introspection_endpoint")
	}
	if err != nil {
		d.failedAt, d.failure = d.now(), fmt.Errorf("%w: discovery: %w", ErrUnavailable, err)
		return "", "", d.failure
	}
	if d.jwksURL == "" {
		d.jwksURL = doc.JWKSURI
	}
	if d.introspectionURL == "" {
		d.introspectionURL = doc.IntrospectionEndpoint
	}
	d.failure = nil
	return d.jwksURL, d.introspectionURL, nil
}

// minRefetchInterval limits JWKS refetches caused by unknown key IDs, so
// tokens with made-up kids cannot make the server hammer the issuer.
const minRefetchInterval = 10 * time.Second

// errUnknownKey is returned when no key of the JWKS fits the token.
var errUnknownKey = errors.New("no key in the issuer's JWKS matches the token")

// keySet caches the issuer's JWKS. An unknown kid triggers at most one
// refetch per minRefetchInterval, so the authorization server can rotate its
// key without a restart of the resource server.
type keySet struct {
	endpoints func(ctx context.Context) (string, error)
	client    *http.Client
	now       func() time.Time

	mu        sync.Mutex
	keys      *jose.JSONWebKeySet
	fetchedAt time.Time
	failure   error // of the last fetch, while no set was ever fetched
}

// verificationKeys returns the public keys that may have signed a token with
// this header: the one with its kid, or every signing key when it has none.
func (k *keySet) verificationKeys(ctx context.Context, h jose.Header) ([]any, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		if k.failure != nil && k.now().Sub(k.fetchedAt) < retryAfterFailure {
			return nil, k.failure
		}
		if err := k.fetch(ctx); err != nil {
			k.failure = err
			return nil, err
		}
		k.failure = nil
	}
	if keys := matchingKeys(k.keys, h); len(keys) > 0 {
		return keys, nil
	}
	if h.KeyID == "" || k.now().Sub(k.fetchedAt) < minRefetchInterval {
		return nil, errUnknownKey
	}
	if err := k.fetch(ctx); err != nil {
		return nil, err
	}
	if keys := matchingKeys(k.keys, h); len(keys) > 0 {
		return keys, nil
	}
	return nil, errUnknownKey
}

// fetch replaces the cached set; k.mu is held.
func (k *keySet) fetch(ctx context.Context) error {
	// Attempts, not successes, start the interval, so a failing issuer is
	// rate-limited too.
	k.fetchedAt = k.now()
	ctx, cancel := sharedFetchContext(ctx)
	defer cancel()
	where, err := k.endpoints(ctx)
	if err != nil {
		return err
	}
	var set jose.JSONWebKeySet
	if err := getJSON(ctx, k.client, where, &set); err != nil {
		return fmt.Errorf("%w: jwks: %w", ErrUnavailable, err)
	}
	k.keys = &set
	return nil
}

// matchingKeys selects usable public keys for h (RFC 7517 §4.2, §4.4, §4.5).
func matchingKeys(set *jose.JSONWebKeySet, h jose.Header) []any {
	var out []any
	for _, key := range set.Keys {
		if h.KeyID != "" && key.KeyID != h.KeyID {
			continue
		}
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != h.Algorithm {
			continue
		}
		// Only public keys verify: a symmetric JWK would let anyone who
		// can read the JWKS forge tokens.
		if !key.IsPublic() {
			pub := key.Public()
			if !pub.Valid() {
				continue
			}
			key = pub
		}
		out = append(out, key.Key)
	}
	return out
}

// introspection is the Verifier's client of the RFC 7662 endpoint.
type introspection struct {
	endpoint     func(ctx context.Context) (string, error)
	client       *http.Client
	clientID     string
	clientSecret string
}

// introspect posts the token and returns the response members.
func (in *introspection) introspect(ctx context.Context, token string) (map[string]any, error) {
	where, err := in.endpoint(ctx)
	if err != nil {
		return nil, err
	}
	// RFC 7662 §2.1: token and an optional token_type_hint, form-encoded.
	form := "token=" + url.QueryEscape(token) + "&token_type_hint=access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, where, strings.NewReader(form))
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: id and secret are form-urlencoded before they are
	// joined for HTTP Basic, so a ':' in either survives.
	req.SetBasicAuth(url.QueryEscape(in.clientID), url.QueryEscape(in.clientSecret))
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	// Any status but 200 (including 401 for our own credentials) says
	// nothing about the token, only that it cannot be checked now.
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: introspection: status %d", ErrUnavailable, resp.StatusCode)
	}
	var out map[string]any
	if err := decodeJSON(resp, &out); err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	if out == nil {
		return nil, fmt.Errorf("%w: introspection: response is not a JSON object", ErrUnavailable)
	}
	return out, nil
}
