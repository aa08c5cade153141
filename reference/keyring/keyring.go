// Package keyring holds the authorization server's signing keys: it creates
// them, keeps them in the store, rotates them and signs and verifies tokens
// with the right one. Tokens carry the key's kid, so a token signed before a
// rotation keeps verifying until its key retires.
package keyring

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"

	"github.com/oauthtrio/oauthtrio/reference/store"
)

// Algorithms lists the JWS algorithms the reference can sign with. RS256 is
// the default: RFC 9068 §2.1 and OpenID Connect Core §15.1 make it mandatory.
var Algorithms = []string{"RS256", "PS256", "ES256"}

// KeyStore is the part of the store the ring needs.
type KeyStore interface {
	AddSigningKey(ctx context.Context, key store.SigningKey, retirePreviousAt time.Time) error
	SigningKeys(ctx context.Context) ([]store.SigningKey, error)
}

// Ring is the set of published keys; the first one signs.
type Ring struct {
	store KeyStore
	now   func() time.Time

	mu   sync.RWMutex
	keys []ringKey // active first
}

// ringKey is a key and when it leaves the JWKS (zero: never). The ring
// honours that time while running, not only at the next load.
type ringKey struct {
	jwk      *jose.JSONWebKey
	retireAt time.Time
}

// current lists the keys not retired at now; the caller holds mu.
func (r *Ring) current() []*jose.JSONWebKey {
	now := r.now()
	out := make([]*jose.JSONWebKey, 0, len(r.keys))
	for i, k := range r.keys {
		if i == 0 || k.retireAt.IsZero() || now.Before(k.retireAt) {
			out = append(out, k.jwk)
		}
	}
	return out
}

// Open loads the keys from the store and creates a key for alg when there is
// no active key or the active key uses another algorithm.
func Open(ctx context.Context, ks KeyStore, alg string, keepPreviousFor time.Duration) (*Ring, error) {
	r := &Ring{store: ks, now: time.Now}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if active := r.Active(); active == nil || active.Algorithm != alg {
		if err := r.Rotate(ctx, alg, keepPreviousFor); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Ring) load(ctx context.Context) error {
	stored, err := r.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keyring: load keys: %w", err)
	}
	keys := make([]ringKey, 0, len(stored))
	for _, s := range stored {
		var k jose.JSONWebKey
		if err := json.Unmarshal(s.PrivateJWK, &k); err != nil {
			return fmt.Errorf("keyring: key %s: %w", s.KID, err)
		}
		// go-jose fills in the CRT values itself, so crypto/rsa's own
		// precomputed form stays empty and every signature would rebuild
		// and re-check it (about a sixth of an RS256 signature's cost).
		if rk, ok := k.Key.(*rsa.PrivateKey); ok {
			rk.Precompute()
		}
		rk := ringKey{jwk: &k, retireAt: s.RetireAt}
		if s.Active {
			rk.retireAt = time.Time{}
			keys = append([]ringKey{rk}, keys...)
		} else {
			keys = append(keys, rk)
		}
	}
	r.mu.Lock()
	r.keys = keys
	r.mu.Unlock()
	return nil
}

// Rotate creates a new signing key for alg and makes it active. The previous
// key stays in the JWKS for keepPreviousFor, which must cover the lifetime of
// the tokens it signed.
func (r *Ring) Rotate(ctx context.Context, alg string, keepPreviousFor time.Duration) error {
	k, err := Generate(alg)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("keyring: encode key: %w", err)
	}
	now := r.now().UTC()
	err = r.store.AddSigningKey(ctx, store.SigningKey{
		KID: k.KeyID, Algorithm: alg, PrivateJWK: raw, CreatedAt: now, Active: true,
	}, now.Add(keepPreviousFor))
	if err != nil {
		return fmt.Errorf("keyring: save key: %w", err)
	}
	return r.load(ctx)
}

// Generate creates a private key for alg with a kid derived from its public
// key (RFC 7638 thumbprint), so the kid is stable and unique.
func Generate(alg string) (*jose.JSONWebKey, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case "RS256", "PS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("keyring: unsupported signing algorithm %q (supported: %s)", alg, strings.Join(Algorithms, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: generate %s key: %w", alg, err)
	}
	jwk := &jose.JSONWebKey{Key: key, Algorithm: alg, Use: "sig"}
	pub := jwk.Public()
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("keyring: thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)[:16]
	return jwk, nil
}

// Active returns the key that signs new tokens.
func (r *Ring) Active() *jose.JSONWebKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.keys) == 0 {
		return nil
	}
	return r.keys[0].jwk
}

// Algorithm is the active key's algorithm.
func (r *Ring) Algorithm() string {
	if k := r.Active(); k != nil {
		return k.Algorithm
	}
	return ""
}

// PublicJWKS is the JWK Set the jwks_uri publishes: public halves only.
func (r *Ring) PublicJWKS() jose.JSONWebKeySet {
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := r.current()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}

func (r *Ring) byKID(kid string) *jose.JSONWebKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.current() {
		if k.KeyID == kid {
			return k
		}
	}
	return nil
}

// Signer returns fosite's jwt.Signer over this ring.
func (r *Ring) Signer() jwt.Signer { return &signer{ring: r} }

// signer signs with the active key and verifies with the key the token's kid
// names, which fosite's DefaultSigner cannot do on its own.
type signer struct{ ring *Ring }

var _ jwt.Signer = (*signer)(nil)

var errUnknownKey = errors.New("keyring: token signed by an unknown key")

func (s *signer) active() *jwt.DefaultSigner {
	k := s.ring.Active()
	return &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (any, error) {
		if k == nil {
			return nil, errUnknownKey
		}
		return k, nil
	}}
}

// verifier picks the key from the token's unverified header; the signature
// check that follows is what makes the choice safe.
func (s *signer) verifier(token string) (*jwt.DefaultSigner, error) {
	header, _, ok := strings.Cut(token, ".")
	if !ok {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: errors.New("token is not a JWS")}
	}
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: err}
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: err}
	}
	k := s.ring.byKID(h.KID)
	if k == nil {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorUnverifiable, Inner: errUnknownKey}
	}
	return &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (any, error) { return k, nil }}, nil
}

func (s *signer) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	return s.active().Generate(ctx, claims, header)
}

func (s *signer) Validate(ctx context.Context, token string) (string, error) {
	v, err := s.verifier(token)
	if err != nil {
		return "", err
	}
	return v.Validate(ctx, token)
}

func (s *signer) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	v, err := s.verifier(token)
	if err != nil {
		return nil, err
	}
	return v.Decode(ctx, token)
}

func (s *signer) GetSignature(ctx context.Context, token string) (string, error) {
	return s.active().GetSignature(ctx, token)
}

// Hash is the at_hash/c_hash digest. Every supported algorithm uses SHA-256
// (OpenID Connect Core §3.1.3.6: the hash of the alg's JWS hash function).
func (s *signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

func (s *signer) GetSigningMethodLength(context.Context) int { return sha256.Size }
