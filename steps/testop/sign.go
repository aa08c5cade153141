package testop

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keyring holds the published signing keys and the unpublished ones bent
// tokens are signed with.
type keyring struct {
	mu        sync.Mutex
	current   jose.JSONWebKey   // signs tokens, published
	published []jose.JSONWebKey // the JWKS, current first
	foreign   *rsa.PrivateKey   // never published
	rotations int
}

func newKeyring() (*keyring, error) {
	k := &keyring{}
	cur, err := newRSAKey("key-1")
	if err != nil {
		return nil, err
	}
	k.current, k.published = cur, []jose.JSONWebKey{cur}
	if k.foreign, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, fmt.Errorf("test OP: generate key: %w", err)
	}
	return k, nil
}

func newRSAKey(kid string) (jose.JSONWebKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("test OP: generate key: %w", err)
	}
	return jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}, nil
}

// rotate makes a new key the signing key and publishes only it (OIDF
// rp-key-rotation-op-sign-key): a client must refetch the JWKS.
func (k *keyring) rotate() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rotations++
	next, err := newRSAKey(fmt.Sprintf("key-%d", k.rotations+1))
	if err != nil {
		return "", err
	}
	k.current, k.published = next, []jose.JSONWebKey{next}
	return next.KeyID, nil
}

// jwks is the public JWK Set.
func (k *keyring) jwks() jose.JSONWebKeySet {
	k.mu.Lock()
	defer k.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, key := range k.published {
		set.Keys = append(set.Keys, key.Public())
	}
	return set
}

// sign makes a compact JWS of claims, bent as b says; typ is the header's
// "typ" unless b replaces it.
func (k *keyring) sign(claims map[string]any, typ string, b TokenBend) (string, error) {
	now := time.Now()
	claims = maps.Clone(claims)
	for name, d := range map[string]*time.Duration{"exp": b.Exp, "nbf": b.Nbf, "iat": b.Iat} {
		if d != nil {
			claims[name] = now.Add(*d).Unix()
		}
	}
	maps.Copy(claims, b.Set)
	for _, name := range b.Drop {
		delete(claims, name)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("test OP: claims: %w", err)
	}
	switch b.Typ {
	case "-":
		typ = ""
	case "":
	default:
		typ = b.Typ
	}

	k.mu.Lock()
	key := k.current
	k.mu.Unlock()
	switch b.Key {
	case KeyForeign:
		key = jose.JSONWebKey{Key: k.foreign, KeyID: key.KeyID}
	case KeyUnknownKID:
		key = jose.JSONWebKey{Key: k.foreign, KeyID: "unpublished-" + key.KeyID}
	}
	if b.OmitKID {
		key.KeyID = ""
	}
	if b.AlgNone {
		return unsigned(payload, typ, key.KeyID)
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("test OP: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("test OP: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// unsigned is an Unsecured JWS (RFC 7515 Appendix A.5): go-jose refuses
// to make one, rightly.
func unsigned(payload []byte, typ, kid string) (string, error) {
	h := map[string]string{"alg": "none"}
	if typ != "" {
		h["typ"] = typ
	}
	if kid != "" {
		h["kid"] = kid
	}
	header, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + ".", nil
}

// halfHash is at_hash and c_hash for RS256 (OIDC Core §3.1.3.6): the left
// half of the SHA-256 of the value, base64url.
func halfHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
