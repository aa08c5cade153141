package steps

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/cucumber/godog"
)

// registerJWTSteps registers the checks of ID tokens and JWT access tokens.
func (s *scenario) registerJWTSteps(sc *godog.ScenarioContext) {
	sc.Step(`^a refreshed ID token, when present, has the same "iss", "sub" and "aud" as the first one$`, s.refreshedIDTokenConsistent)
	sc.Step(`^the ID token is valid$`, s.idTokenValid)
	sc.Step(`^the ID token header "([^"]*)" is not "([^"]*)"$`, s.idTokenHeaderIsNot)
	sc.Step(`^the ID token header "kid", when several keys are published, names a key of the JWK Set$`, s.idTokenKidKnown)
	sc.Step(`^the ID token "([^"]*)" is the issuer URL$`, s.idTokenClaimIsIssuer)
	sc.Step(`^the ID token "aud" contains the client id$`, s.idTokenAudHasClient)
	sc.Step(`^the ID token "azp", when present, is the client id$`, s.idTokenAzp)
	sc.Step(`^the ID token has a string "([^"]*)"$`, s.idTokenHasString)
	sc.Step(`^the ID token has a number "([^"]*)"$`, s.idTokenHasNumber)
	sc.Step(`^the ID token "([^"]*)" is in the future$`, s.idTokenTimeInFuture)
	sc.Step(`^the ID token "([^"]*)" is not in the future$`, s.idTokenTimeNotInFuture)
	sc.Step(`^the ID token "nonce" is the nonce of the request$`, s.idTokenNonce)
	sc.Step(`^the ID token "at_hash", when present, matches the access token$`, s.idTokenAtHash)
	sc.Step(`^the ID token "sub" is the same as in the first ID token$`, s.idTokenSubSameAsFirst)
	sc.Step(`^the access token is a JWT$`, s.accessTokenIsJWT)
	sc.Step(`^the access token header "typ" is "at\+jwt" or "application/at\+jwt"$`, s.accessTokenTyp)
	sc.Step(`^the access token header "alg" is not "none"$`, s.accessTokenAlgNotNone)
	sc.Step(`^the access token signature verifies with a key of the JWK Set$`, s.accessTokenSignature)
	sc.Step(`^the access token has the claims (.+)$`, s.accessTokenHasClaims)
	sc.Step(`^the access token "iss" is the issuer URL$`, s.accessTokenIss)
	sc.Step(`^the access token "client_id" is the client id$`, s.accessTokenClientID)
	sc.Step(`^the ID token "([^"]*)" is later than in the first ID token$`, s.idTokenLaterThanFirst)
	sc.Step(`^the ID token header "([^"]*)" is "([^"]*)"$`, s.idTokenHeaderIs)
}

// jws is a compact JWS split into its decoded parts, for assertions on
// single claims; verification is done separately, with go-oidc.
type jws struct {
	header, claims map[string]any
}

func decodeJWS(raw string) (*jws, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a compact JWS (%d parts)", len(parts))
	}
	out := &jws{}
	for i, dst := range []*map[string]any{&out.header, &out.claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, fmt.Errorf("part %d is not base64url: %w", i+1, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, fmt.Errorf("part %d is not a JSON object: %w", i+1, err)
		}
	}
	return out, nil
}

func (s *scenario) idToken() (*jws, error) {
	if err := s.needTokens(); err != nil {
		return nil, err
	}
	if s.tokens.id == "" {
		return nil, errors.New("the token response has no id_token")
	}
	return decodeJWS(s.tokens.id)
}

// verifyIDToken runs OIDC Core §3.1.3.7 steps 2, 3, 6, 9 and 10 with
// go-oidc: issuer, audience, signature by a JWKS key, expiry.
func (s *scenario) verifyIDToken(raw string) (*oidc.IDToken, error) {
	if s.run.keys == nil {
		return nil, errors.New("the issuer's JWK Set is unknown (no discovery)")
	}
	algs := slices.DeleteFunc(slices.Clone(s.run.meta.IDTokenSigningAlgValuesSupported), func(a string) bool { return a == "none" })
	v := oidc.NewVerifier(s.run.issuerID(), s.run.keys, &oidc.Config{ClientID: s.client.ID, SupportedSigningAlgs: algs})
	return v.Verify(oidc.ClientContext(s.ctx, s.run.http), raw)
}

func (s *scenario) idTokenValid() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	if s.tokens.id == "" {
		return errors.New("the token response has no id_token")
	}
	_, err := s.verifyIDToken(s.tokens.id)
	return err
}

func (s *scenario) idTokenHeaderIsNot(name, value string) error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if t.header[name] == value {
		return fmt.Errorf("the ID token header %q is %q", name, value)
	}
	return nil
}

// idTokenKidKnown: OIDC Core §10.1, with several keys the kid names one.
func (s *scenario) idTokenKidKnown() error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	r, err := s.get(s.run.meta.JWKSURI, nil)
	if err != nil {
		return err
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		return fmt.Errorf("the JWK Set does not parse: %w", err)
	}
	if len(set.Keys) < 2 {
		return nil
	}
	kid, _ := t.header["kid"].(string)
	for _, k := range set.Keys {
		if k.KID == kid && kid != "" {
			return nil
		}
	}
	return fmt.Errorf("the ID token's kid %q names none of the %d published keys", kid, len(set.Keys))
}

func (s *scenario) idTokenClaimIsIssuer(claim string) error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if t.claims[claim] != s.run.issuerID() {
		return fmt.Errorf("%s is %v, expected the issuer %q", claim, t.claims[claim], s.run.issuerID())
	}
	return nil
}

func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (s *scenario) idTokenAudHasClient() error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if !slices.Contains(audience(t.claims["aud"]), s.client.ID) {
		return fmt.Errorf("aud %v does not contain the client id %q", t.claims["aud"], s.client.ID)
	}
	return nil
}

func (s *scenario) idTokenAzp() error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if azp, ok := t.claims["azp"]; ok && azp != s.client.ID {
		return fmt.Errorf("azp is %v, expected the client id %q", azp, s.client.ID)
	}
	return nil
}

func (s *scenario) idTokenHasString(claim string) error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if v, ok := t.claims[claim].(string); !ok || v == "" {
		return fmt.Errorf("the ID token has no string %q (claims: %s)", claim, claimNames(t.claims))
	}
	return nil
}

func (s *scenario) idTokenHasNumber(claim string) error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if _, ok := t.claims[claim].(float64); !ok {
		return fmt.Errorf("the ID token has no number %q (claims: %s)", claim, claimNames(t.claims))
	}
	return nil
}

func claimNames(m map[string]any) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}

// clockSkew is the tolerance of time comparisons with the provider's clock.
const clockSkew = 60 * time.Second

func (s *scenario) idTokenTime(claim string) (time.Time, error) {
	t, err := s.idToken()
	if err != nil {
		return time.Time{}, err
	}
	n, ok := t.claims[claim].(float64)
	if !ok {
		return time.Time{}, fmt.Errorf("the ID token has no number %q", claim)
	}
	return time.Unix(int64(n), 0), nil
}

func (s *scenario) idTokenTimeInFuture(claim string) error {
	at, err := s.idTokenTime(claim)
	if err != nil {
		return err
	}
	if !at.After(time.Now().Add(-clockSkew)) {
		return fmt.Errorf("%s is %s, in the past", claim, at.UTC())
	}
	return nil
}

func (s *scenario) idTokenTimeNotInFuture(claim string) error {
	at, err := s.idTokenTime(claim)
	if err != nil {
		return err
	}
	if at.After(time.Now().Add(clockSkew)) {
		return fmt.Errorf("%s is %s, in the future", claim, at.UTC())
	}
	return nil
}

// idTokenNonce: OIDC Core §3.1.3.7 step 11, the nonce sent, unchanged.
func (s *scenario) idTokenNonce() error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if s.first == nil || s.auth == nil {
		return errors.New("no authorization request was sent")
	}
	want := s.auth.params.Get("nonce")
	if t.claims["nonce"] != want {
		return fmt.Errorf("nonce is %v, expected %q", t.claims["nonce"], want)
	}
	return nil
}

// idTokenAtHash: OIDC Core §3.1.3.8, checked by go-oidc when present.
func (s *scenario) idTokenAtHash() error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if _, ok := t.claims["at_hash"]; !ok {
		return nil
	}
	tok, err := s.verifyIDToken(s.tokens.id)
	if err != nil {
		return err
	}
	if err := tok.VerifyAccessToken(s.tokens.access); err != nil {
		return fmt.Errorf("at_hash does not match the access token: %w", err)
	}
	return nil
}

// firstIDToken is the ID token of the scenario's first token response.
func (s *scenario) firstIDToken() (*jws, error) {
	if s.first == nil || s.first.id == "" {
		return nil, errors.New("the first token response had no ID token")
	}
	return decodeJWS(s.first.id)
}

// latestAndFirstIDTokens are the latest ID token and the first one.
func (s *scenario) latestAndFirstIDTokens() (latest, first *jws, err error) {
	if latest, err = s.idToken(); err != nil {
		return nil, nil, err
	}
	if first, err = s.firstIDToken(); err != nil {
		return nil, nil, err
	}
	return latest, first, nil
}

func (s *scenario) idTokenSubSameAsFirst() error {
	t, first, err := s.latestAndFirstIDTokens()
	if err != nil {
		return err
	}
	if t.claims["sub"] != first.claims["sub"] {
		return fmt.Errorf("sub is %v, the first ID token said %v", t.claims["sub"], first.claims["sub"])
	}
	return nil
}

// refreshedIDTokenConsistent: OIDC Core §12.2.
func (s *scenario) refreshedIDTokenConsistent() error {
	r, err := s.last()
	if err != nil {
		return err
	}
	raw, _ := r.json["id_token"].(string)
	if raw == "" {
		return nil
	}
	if _, err := s.verifyIDToken(raw); err != nil {
		return fmt.Errorf("the refreshed ID token: %w", err)
	}
	now, err := decodeJWS(raw)
	if err != nil {
		return err
	}
	first, err := decodeJWS(s.first.id)
	if err != nil {
		return err
	}
	for _, c := range []string{"iss", "sub"} {
		if now.claims[c] != first.claims[c] {
			return fmt.Errorf("the refreshed ID token's %s is %v, the first said %v", c, now.claims[c], first.claims[c])
		}
	}
	if a, b := audience(now.claims["aud"]), audience(first.claims["aud"]); !slices.Equal(a, b) {
		return fmt.Errorf("the refreshed ID token's aud is %v, the first said %v", a, b)
	}
	return nil
}

func (s *scenario) accessToken() (*jws, error) {
	if err := s.needTokens(); err != nil {
		return nil, err
	}
	return decodeJWS(s.tokens.access)
}

// accessTokenIsJWT makes a JWT access token the premise: RFC 9068 does
// not apply to opaque tokens.
func (s *scenario) accessTokenIsJWT() error {
	if _, err := s.accessToken(); err != nil {
		return s.notApplicable("the access tokens are not JWTs (%v)", err)
	}
	return nil
}

func (s *scenario) accessTokenTyp() error {
	t, err := s.accessToken()
	if err != nil {
		return err
	}
	typ, _ := t.header["typ"].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return fmt.Errorf("the access token typ is %q, expected at+jwt", typ)
	}
	return nil
}

func (s *scenario) accessTokenAlgNotNone() error {
	t, err := s.accessToken()
	if err != nil {
		return err
	}
	if alg, _ := t.header["alg"].(string); alg == "" || strings.EqualFold(alg, "none") {
		return fmt.Errorf("the access token alg is %q", alg)
	}
	return nil
}

func (s *scenario) accessTokenSignature() error {
	if err := s.needTokens(); err != nil {
		return err
	}
	if s.run.keys == nil {
		return errors.New("the issuer's JWK Set is unknown (no discovery)")
	}
	if _, err := s.run.keys.VerifySignature(oidc.ClientContext(s.ctx, s.run.http), s.tokens.access); err != nil {
		return fmt.Errorf("the access token signature does not verify with the JWK Set: %w", err)
	}
	return nil
}

func (s *scenario) accessTokenHasClaims(phrase string) error {
	t, err := s.accessToken()
	if err != nil {
		return err
	}
	var missing []string
	for _, c := range listOf(phrase) {
		if _, ok := t.claims[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the access token lacks %s (has %s)", strings.Join(missing, ", "), claimNames(t.claims))
	}
	return nil
}

func (s *scenario) accessTokenIss() error {
	t, err := s.accessToken()
	if err != nil {
		return err
	}
	if t.claims["iss"] != s.run.issuerID() {
		return fmt.Errorf("the access token iss is %v, expected %q", t.claims["iss"], s.run.issuerID())
	}
	return nil
}

func (s *scenario) accessTokenClientID() error {
	t, err := s.accessToken()
	if err != nil {
		return err
	}
	if t.claims["client_id"] != s.client.ID {
		return fmt.Errorf("the access token client_id is %v, expected %q", t.claims["client_id"], s.client.ID)
	}
	return nil
}

// jsonMerge serialises several values into one JSON object.
func jsonMerge(parts ...any) ([]byte, error) {
	out := map[string]any{}
	for _, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return json.Marshal(out)
}

func (s *scenario) idTokenLaterThanFirst(claim string) error {
	t, first, err := s.latestAndFirstIDTokens()
	if err != nil {
		return err
	}
	now, _ := t.claims[claim].(float64)
	before, _ := first.claims[claim].(float64)
	if now <= before {
		return fmt.Errorf("%s is %.0f, not later than the first ID token's %.0f", claim, now, before)
	}
	return nil
}

func (s *scenario) idTokenHeaderIs(name, value string) error {
	t, err := s.idToken()
	if err != nil {
		return err
	}
	if t.header[name] != value {
		return fmt.Errorf("the ID token header %q is %v, expected %q", name, t.header[name], value)
	}
	return nil
}
