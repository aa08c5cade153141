package authserver

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// SecretCost is the bcrypt cost of stored client secrets and user
// passwords. Cost 10 takes about 60 ms per check on a 2-core machine: slow
// enough to make offline guessing expensive, and the token endpoint does
// not pay it on every call thanks to SecretHasher's cache.
const SecretCost = 10

// HashSecret hashes a client secret or a password for storage.
func HashSecret(secret string) ([]byte, error) {
	return HashSecretCost(secret, SecretCost)
}

// HashSecretCost hashes at another bcrypt cost; the cost is kept in the
// hash, so checks need not know it. Only throw-away instances with public
// test secrets should go below SecretCost.
func HashSecretCost(secret string, cost int) ([]byte, error) {
	return bcrypt.GenerateFromPassword(prehash([]byte(secret)), cost)
}

// prehash feeds bcrypt a fixed-length digest: bcrypt reads at most 72
// bytes, and the Postman client's secret alone is 86. Base64 keeps NUL
// bytes out of bcrypt's input.
func prehash(secret []byte) []byte {
	sum := sha256.Sum256(secret)
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func mustHash(s string) []byte {
	h, err := HashSecret(s)
	if err != nil {
		panic(err)
	}
	return h
}

func comparePassword(hash []byte, password string) error {
	return bcrypt.CompareHashAndPassword(hash, prehash([]byte(password)))
}

// SecretHasher is fosite's client-secret hasher: bcrypt, plus a cache of
// pairs (stored hash, presented secret) that verified. A confidential client
// calls the token endpoint many times with the same secret; without the
// cache each call would cost a full bcrypt check. Entries are HMACs under a
// key that lives only in this process, so the cache holds nothing a reader
// of memory could turn back into a secret, and a changed hash (a rotated
// secret) misses it. Failures are never cached.
type SecretHasher struct {
	key []byte

	mu       sync.RWMutex
	verified map[[sha256.Size]byte]struct{}
}

// maxVerifiedSecrets bounds the cache; it is cleared when full.
const maxVerifiedSecrets = 4096

// NewSecretHasher returns a hasher with a fresh process key.
func NewSecretHasher() *SecretHasher {
	key := make([]byte, 32)
	rand.Read(key)
	return &SecretHasher{key: key, verified: map[[sha256.Size]byte]struct{}{}}
}

func (h *SecretHasher) mac(hash, secret []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, h.key)
	m.Write(hash)
	m.Write([]byte{0})
	m.Write(secret)
	var out [sha256.Size]byte
	copy(out[:], m.Sum(nil))
	return out
}

// Compare implements fosite.Hasher. bcrypt's comparison is constant-time;
// the cache lookup is keyed by a MAC of the presented secret, so its timing
// reveals nothing about the stored one.
func (h *SecretHasher) Compare(_ context.Context, hash, secret []byte) error {
	k := h.mac(hash, secret)
	h.mu.RLock()
	_, ok := h.verified[k]
	h.mu.RUnlock()
	if ok {
		return nil
	}
	if err := bcrypt.CompareHashAndPassword(hash, prehash(secret)); err != nil && !fault.On("client-secret-unchecked") {
		return err
	}
	h.mu.Lock()
	if len(h.verified) >= maxVerifiedSecrets {
		clear(h.verified)
	}
	h.verified[k] = struct{}{}
	h.mu.Unlock()
	return nil
}

// Hash implements fosite.Hasher.
func (h *SecretHasher) Hash(_ context.Context, secret []byte) ([]byte, error) {
	return bcrypt.GenerateFromPassword(prehash(secret), SecretCost)
}
