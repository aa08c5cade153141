package keyring

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauthtrio/oauthtrio/reference/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.OpenMemory(func() fosite.Session { return &fosite.DefaultSession{} })
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// sign issues a small token with the ring's active key.
func sign(t *testing.T, r *Ring, sub string) string {
	t.Helper()
	tok, _, err := r.Signer().Generate(context.Background(),
		jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()}, &jwt.Headers{})
	require.NoError(t, err)
	return tok
}

func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func TestOpenCreatesKey(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	r, err := Open(ctx, st, "RS256", time.Hour)
	require.NoError(t, err)

	active := r.Active()
	require.NotNil(t, active)
	assert.Equal(t, "RS256", active.Algorithm)
	assert.Equal(t, "RS256", r.Algorithm())
	assert.Equal(t, "sig", active.Use)
	assert.Len(t, active.KeyID, 16)

	stored, err := st.SigningKeys(ctx)
	require.NoError(t, err)
	require.Len(t, stored, 1)
	assert.Equal(t, active.KeyID, stored[0].KID)
	assert.True(t, stored[0].Active)

	// Opening again with the same algorithm reuses the stored key.
	again, err := Open(ctx, st, "RS256", time.Hour)
	require.NoError(t, err)
	assert.Equal(t, active.KeyID, again.Active().KeyID)
	assert.Equal(t, []string{active.KeyID}, kids(again.PublicJWKS()))

	// A token signed before the reopening still verifies.
	_, err = again.Signer().Decode(ctx, sign(t, r, "alice"))
	assert.NoError(t, err)
}

func TestAlgorithms(t *testing.T) {
	for _, alg := range Algorithms {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			r, err := Open(ctx, openStore(t), alg, time.Hour)
			require.NoError(t, err)
			tok := sign(t, r, "alice")
			decoded, err := r.Signer().Decode(ctx, tok)
			require.NoError(t, err)
			assert.Equal(t, alg, decoded.Header["alg"])
			assert.Equal(t, r.Active().KeyID, decoded.Header["kid"])
			assert.Equal(t, "alice", decoded.Claims["sub"])

			set := r.PublicJWKS()
			require.Len(t, set.Keys, 1)
			pub := set.Keys[0]
			// RFC 7517 §4: the published key is public, with its alg.
			assert.True(t, pub.IsPublic())
			assert.Equal(t, alg, pub.Algorithm)
			switch alg {
			case "ES256":
				assert.IsType(t, &ecdsa.PublicKey{}, pub.Key)
			default:
				assert.IsType(t, &rsa.PublicKey{}, pub.Key)
			}
			// The JWKS verifies what the ring signed.
			parsed, err := jose.ParseSigned(tok)
			require.NoError(t, err)
			_, err = parsed.Verify(&pub)
			assert.NoError(t, err)
		})
	}
}

func TestUnsupportedAlgorithm(t *testing.T) {
	for _, alg := range []string{"HS256", "none", "RS512", ""} {
		t.Run(alg, func(t *testing.T) {
			_, err := Open(context.Background(), openStore(t), alg, time.Hour)
			assert.ErrorContains(t, err, "unsupported signing algorithm")
		})
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	r, err := Open(ctx, st, "RS256", time.Hour)
	require.NoError(t, err)
	oldKID := r.Active().KeyID
	oldToken := sign(t, r, "alice")

	require.NoError(t, r.Rotate(ctx, "RS256", time.Hour))
	newKID := r.Active().KeyID
	assert.NotEqual(t, oldKID, newKID)
	// The new key signs; the old one stays published, after the new one.
	assert.Equal(t, []string{newKID, oldKID}, kids(r.PublicJWKS()))

	decoded, err := r.Signer().Decode(ctx, sign(t, r, "bob"))
	require.NoError(t, err)
	assert.Equal(t, newKID, decoded.Header["kid"])

	// A token signed before the rotation verifies with the key its kid
	// names.
	decoded, err = r.Signer().Decode(ctx, oldToken)
	require.NoError(t, err)
	assert.Equal(t, oldKID, decoded.Header["kid"])
	_, err = r.Signer().Validate(ctx, oldToken)
	assert.NoError(t, err)

	// A reopened ring sees the same two keys.
	reopened, err := Open(ctx, st, "RS256", time.Hour)
	require.NoError(t, err)
	assert.Equal(t, []string{newKID, oldKID}, kids(reopened.PublicJWKS()))
}

func TestRotateWithoutOverlap(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, openStore(t), "RS256", time.Hour)
	require.NoError(t, err)
	oldToken := sign(t, r, "alice")

	// An overlap of zero retires the old key at once: it leaves the JWKS
	// and its tokens stop verifying.
	require.NoError(t, r.Rotate(ctx, "RS256", 0))
	assert.Len(t, r.PublicJWKS().Keys, 1)
	_, err = r.Signer().Decode(ctx, oldToken)
	assert.Error(t, err)
}

func TestAlgorithmChangeAtOpen(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	rs, err := Open(ctx, st, "RS256", time.Hour)
	require.NoError(t, err)
	rsKID := rs.Active().KeyID
	rsToken := sign(t, rs, "alice")

	es, err := Open(ctx, st, "ES256", time.Hour)
	require.NoError(t, err)
	assert.Equal(t, "ES256", es.Algorithm())
	assert.Equal(t, []string{es.Active().KeyID, rsKID}, kids(es.PublicJWKS()))
	_, err = es.Signer().Decode(ctx, rsToken)
	assert.NoError(t, err, "the RS256 key still verifies its tokens")
}

func TestVerifyFailures(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, openStore(t), "RS256", time.Hour)
	require.NoError(t, err)
	foreign, err := Open(ctx, openStore(t), "RS256", time.Hour)
	require.NoError(t, err)
	good := sign(t, r, "alice")

	// A foreign key under the ring's kid: the kid selects the ring's key
	// and the signature check fails.
	impostor, err := Generate("RS256")
	require.NoError(t, err)
	impostor.KeyID = r.Active().KeyID
	forged, _, err := (&jwt.DefaultSigner{GetPrivateKey: func(context.Context) (any, error) { return impostor, nil }}).
		Generate(ctx, jwt.MapClaims{"sub": "mallory"}, &jwt.Headers{})
	require.NoError(t, err)

	tests := []struct {
		name, token string
		want        uint32
	}{
		{"unknown kid", sign(t, foreign, "alice"), jwt.ValidationErrorUnverifiable},
		{"forged signature", forged, jwt.ValidationErrorSignatureInvalid},
		{"not a JWS", "garbage", jwt.ValidationErrorMalformed},
		{"header not base64", "!!!.e30.sig", jwt.ValidationErrorMalformed},
		{"header not JSON", "bm90IGpzb24.e30.sig", jwt.ValidationErrorMalformed},
		{"tampered payload", tamper(good), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Signer().Decode(ctx, tt.token)
			require.Error(t, err)
			_, verr := r.Signer().Validate(ctx, tt.token)
			require.Error(t, verr)
			if tt.want != 0 {
				var ve *jwt.ValidationError
				require.True(t, errors.As(err, &ve), "%T %v", err, err)
				assert.NotZero(t, ve.Errors&tt.want, "errors %b", ve.Errors)
			}
		})
	}
}

func TestGenerateKIDIsThumbprint(t *testing.T) {
	a, err := Generate("ES256")
	require.NoError(t, err)
	b, err := Generate("ES256")
	require.NoError(t, err)
	assert.NotEqual(t, a.KeyID, b.KeyID)
	// RFC 7638: the kid derives from the public key alone.
	pub := a.Public()
	assert.Equal(t, a.KeyID, pub.KeyID)
}

// TestRetiredKeyLeavesWhileRunning: a previous key leaves the JWKS at its
// retire time, not at the next start.
func TestRetiredKeyLeavesWhileRunning(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, openStore(t), "RS256", time.Hour)
	require.NoError(t, err)
	oldKID := r.Active().KeyID
	oldToken := sign(t, r, "alice")
	require.NoError(t, r.Rotate(ctx, "RS256", time.Hour))
	newKID := r.Active().KeyID
	require.Equal(t, []string{newKID, oldKID}, kids(r.PublicJWKS()))

	r.now = func() time.Time { return time.Now().Add(time.Hour + time.Minute) }
	assert.Equal(t, []string{newKID}, kids(r.PublicJWKS()), "the retired key is still published")
	_, err = r.Signer().Validate(ctx, oldToken)
	assert.Error(t, err, "a token of the retired key still verifies")
	_, err = r.Signer().Validate(ctx, sign(t, r, "bob"))
	assert.NoError(t, err, "the active key never retires")
}

// BenchmarkSign measures signing an access token with the stored key, per
// algorithm, as the token endpoint does.
//
//	go test -run '^$' -bench Sign ./reference/keyring/
func BenchmarkSign(b *testing.B) {
	for _, alg := range Algorithms {
		b.Run(alg, func(b *testing.B) {
			st, err := store.OpenMemory(func() fosite.Session { return &fosite.DefaultSession{} })
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			r, err := Open(context.Background(), st, alg, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			s := r.Signer()
			claims := jwt.MapClaims{"sub": "bench", "scope": "my/scope", "client_id": "bench-client"}
			for b.Loop() {
				if _, _, err := s.Generate(context.Background(), claims, &jwt.Headers{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// tamper changes the character in the middle of token (in its payload) to
// another base64url character: replacing it with a fixed one would leave
// the token as it was whenever that is the character already there.
func tamper(token string) string {
	i := len(token) / 2
	c := byte('A')
	if token[i] == c {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
