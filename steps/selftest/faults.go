package selftest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/oauthtrio/oauthtrio/reference/authserver"
	"github.com/oauthtrio/oauthtrio/reference/fixture"
	"github.com/oauthtrio/oauthtrio/steps/launch/reference"
)

// Fault is one way to break the reference.
type Fault struct {
	Name        string
	Description string
	// Tags selects the scenarios that can see the fault, so each run is
	// short; a fault counts as caught only by a scenario that ran.
	Tags   string
	inject func(b *broken)
}

// Options builds the reference options that put the fault in.
func (f Fault) Options() *reference.Options {
	b := newBroken()
	// A broken server often leaves the browser on an unexpected page;
	// a short timeout ends such a flow sooner.
	b.opts.Timeouts.Browser = 5 * time.Second
	f.inject(b)
	return b.opts
}

// storageWith is authserver.Storage with some methods replaced.
type storageWith struct {
	authserver.Storage
	invalidateCode func(ctx context.Context, code string) error
	getCode        func(ctx context.Context, code string, s fosite.Session) (fosite.Requester, error)
	getRefresh     func(ctx context.Context, sig string, s fosite.Session) (fosite.Requester, error)
	rotate         func(ctx context.Context, requestID, sig string) error
	revokeAccess   func(ctx context.Context, requestID string) error
	revokeRefresh  func(ctx context.Context, requestID string) error
	getPKCE        func(ctx context.Context, sig string, s fosite.Session) (fosite.Requester, error)
}

func (s *storageWith) InvalidateAuthorizeCodeSession(ctx context.Context, code string) error {
	if s.invalidateCode != nil {
		return s.invalidateCode(ctx, code)
	}
	return s.Storage.InvalidateAuthorizeCodeSession(ctx, code)
}

func (s *storageWith) GetAuthorizeCodeSession(ctx context.Context, code string, sess fosite.Session) (fosite.Requester, error) {
	if s.getCode != nil {
		return s.getCode(ctx, code, sess)
	}
	return s.Storage.GetAuthorizeCodeSession(ctx, code, sess)
}

func (s *storageWith) GetRefreshTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	if s.getRefresh != nil {
		return s.getRefresh(ctx, sig, sess)
	}
	return s.Storage.GetRefreshTokenSession(ctx, sig, sess)
}

func (s *storageWith) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	if s.rotate != nil {
		return s.rotate(ctx, requestID, sig)
	}
	return s.Storage.RotateRefreshToken(ctx, requestID, sig)
}

func (s *storageWith) RevokeAccessToken(ctx context.Context, requestID string) error {
	if s.revokeAccess != nil {
		return s.revokeAccess(ctx, requestID)
	}
	return s.Storage.RevokeAccessToken(ctx, requestID)
}

func (s *storageWith) RevokeRefreshToken(ctx context.Context, requestID string) error {
	if s.revokeRefresh != nil {
		return s.revokeRefresh(ctx, requestID)
	}
	return s.Storage.RevokeRefreshToken(ctx, requestID)
}

func (s *storageWith) GetPKCERequestSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	if s.getPKCE != nil {
		return s.getPKCE(ctx, sig, sess)
	}
	return s.Storage.GetPKCERequestSession(ctx, sig, sess)
}

// getter reads a stored grant by signature.
type getter func(ctx context.Context, sig string, s fosite.Session) (fosite.Requester, error)

// bindToCaller makes the grants that get reads look issued to whichever
// client calls the token endpoint, so the server never notices a grant
// presented by another client.
func (b *broken) bindToCaller(get func(authserver.Storage) getter, install func(*storageWith, getter)) {
	b.middleware("authserver", stash(keyCaller, func(r *http.Request) string {
		if tokenRequest(r) {
			return basicClientID(r)
		}
		return ""
	}))
	b.storage(func(s authserver.Storage) authserver.Storage {
		w := &storageWith{Storage: s}
		read := get(s)
		install(w, func(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
			req, err := read(ctx, sig, sess)
			if req == nil {
				return req, err
			}
			return withClient(ctx, s, req, stashed(ctx, keyCaller)), err
		})
		return w
	})
}

// withForm copies a stored request with its form changed; the stored
// request itself stays intact.
func withForm(r fosite.Requester, f func(url.Values)) fosite.Requester {
	req, ok := r.(*fosite.Request)
	if !ok {
		return r
	}
	cp := *req
	cp.Form = url.Values{}
	for k, v := range req.Form {
		cp.Form[k] = append([]string(nil), v...)
	}
	f(cp.Form)
	return &cp
}

// withClient copies a stored request as if it had been issued to client.
func withClient(ctx context.Context, st authserver.Storage, r fosite.Requester, clientID string) fosite.Requester {
	req, ok := r.(*fosite.Request)
	if !ok || clientID == "" {
		return r
	}
	c, err := st.GetClient(ctx, clientID)
	if err != nil {
		return r
	}
	cp := *req
	cp.Client = c
	return &cp
}

// basicClientID is the client id of an HTTP Basic Authorization header.
func basicClientID(r *http.Request) string {
	id, _, ok := r.BasicAuth()
	if !ok {
		return ""
	}
	if v, err := url.QueryUnescape(id); err == nil {
		return v
	}
	return id
}

const (
	keyVerifier ctxKey = "code_verifier"
	keyCaller   ctxKey = "caller"
)

func tokenRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && endpoint(r, "token")
}

func formValue(name string) func(*http.Request) string {
	return func(r *http.Request) string {
		if err := r.ParseForm(); err != nil {
			return ""
		}
		return r.PostForm.Get(name)
	}
}

// resignIDToken changes the claims of the ID token of a token response and
// signs it again with the server's own key, so only the change is wrong.
func (b *broken) resignIDToken(edit func(claims map[string]any)) {
	b.middleware("authserver", rewrite(tokenRequest, func(r *http.Request, c *captured) {
		editJSON(c, func(m map[string]any) {
			raw, _ := m["id_token"].(string)
			if raw == "" {
				return
			}
			claims, header, err := decodeUnverified(raw)
			if err != nil {
				return
			}
			edit(claims)
			tok, _, err := b.trio.Keys.Signer().Generate(r.Context(), claims, &jwt.Headers{Extra: header})
			if err == nil {
				m["id_token"] = tok
			}
		})
	}))
}

func decodeUnverified(raw string) (jwt.MapClaims, map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a JWS")
	}
	var header, claims map[string]any
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, nil, err
		}
	}
	delete(header, "alg")
	delete(header, "kid")
	return jwt.MapClaims(claims), header, nil
}

// Faults is the catalogue: each is a bug a real server could have.
func Faults() []Fault {
	return []Fault{
		{
			Name: "pkce-verifier-not-compared", Tags: "@RFC7636-4.6",
			Description: "the code_verifier is never compared with the stored challenge",
			inject: func(b *broken) {
				b.middleware("authserver", stash(keyVerifier, func(r *http.Request) string {
					if !tokenRequest(r) {
						return ""
					}
					return formValue("code_verifier")(r)
				}))
				b.storage(func(s authserver.Storage) authserver.Storage {
					return &storageWith{Storage: s, getPKCE: func(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
						req, err := s.GetPKCERequestSession(ctx, sig, sess)
						v := stashed(ctx, keyVerifier)
						if err != nil || v == "" {
							return req, err
						}
						sum := sha256.Sum256([]byte(v))
						return withForm(req, func(f url.Values) {
							f.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
							f.Set("code_challenge_method", "S256")
						}), nil
					}}
				})
			},
		},
		{
			Name: "code-reusable", Tags: "@RFC6749-10.5",
			Description: "authorization codes are never marked as used",
			inject: func(b *broken) {
				b.storage(func(s authserver.Storage) authserver.Storage {
					return &storageWith{Storage: s, invalidateCode: func(context.Context, string) error { return nil }}
				})
			},
		},
		{
			Name: "code-expiry-ignored", Tags: "@needs:wait:code_expiry",
			Description: "an expired authorization code is still exchanged",
			inject: func(b *broken) {
				b.storage(func(s authserver.Storage) authserver.Storage {
					return &storageWith{Storage: s, getCode: func(ctx context.Context, code string, sess fosite.Session) (fosite.Requester, error) {
						req, err := s.GetAuthorizeCodeSession(ctx, code, sess)
						if req != nil {
							req.GetSession().SetExpiresAt(fosite.AuthorizeCode, time.Now().Add(time.Hour))
							if r, ok := req.(*fosite.Request); ok {
								r.RequestedAt = time.Now().UTC()
							}
						}
						return req, err
					}}
				})
			},
		},
		{
			Name: "code-not-bound-to-client", Tags: "@RFC6749-4.1.3",
			Description: "a code is exchanged by whichever client presents it",
			inject: func(b *broken) {
				b.bindToCaller(func(s authserver.Storage) getter { return s.GetAuthorizeCodeSession },
					func(w *storageWith, g getter) { w.getCode = g })
			},
		},
		{
			Name: "refresh-token-not-bound-to-client", Tags: "@RFC6749-6",
			Description: "a refresh token is accepted from any client",
			inject: func(b *broken) {
				b.bindToCaller(func(s authserver.Storage) getter { return s.GetRefreshTokenSession },
					func(w *storageWith, g getter) { w.getRefresh = g })
			},
		},
		{
			Name: "refresh-token-not-rotated", Tags: "@RFC9700-4.14.2",
			Description: "a used refresh token stays valid although a new one was issued",
			inject: func(b *broken) {
				b.storage(func(s authserver.Storage) authserver.Storage {
					return &storageWith{Storage: s, rotate: func(context.Context, string, string) error { return nil }}
				})
			},
		},
		{
			Name: "revocation-noop", Tags: "@RFC7009-2.1",
			Description: "the revocation endpoint answers 200 and revokes nothing",
			inject: func(b *broken) {
				b.storage(func(s authserver.Storage) authserver.Storage {
					noop := func(context.Context, string) error { return nil }
					return &storageWith{Storage: s, revokeAccess: noop, revokeRefresh: noop}
				})
			},
		},
		{
			Name: "redirect-uri-prefix-match", Tags: "@RFC9700-4.1.3",
			Description: "a redirect URI is accepted when a registered one is its prefix",
			inject: func(b *broken) {
				b.middleware("authserver", editRequest(func(r *http.Request) bool { return endpoint(r, "authorize") }, func(r *http.Request) {
					setForm(r, func(f url.Values) {
						c, err := b.trio.Store.GetClient(r.Context(), f.Get("client_id"))
						if err != nil {
							return
						}
						for _, reg := range c.GetRedirectURIs() {
							if req := f.Get("redirect_uri"); req != reg && strings.HasPrefix(req, strings.TrimSuffix(reg, "/")) {
								f.Set("redirect_uri", reg)
							}
						}
					})
				}))
			},
		},
		{
			Name: "unregistered-redirect-followed", Tags: "@RFC6749-3.1.2.4",
			Description: "an unregistered redirect URI receives the error by redirect",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(func(r *http.Request) bool { return endpoint(r, "authorize") }, func(r *http.Request, c *captured) {
					to := r.FormValue("redirect_uri")
					if c.status != http.StatusBadRequest || to == "" || !strings.Contains(c.body.String(), "oauth-error") {
						return
					}
					c.header = http.Header{"Location": {to + "?error=invalid_request&state=" + url.QueryEscape(r.FormValue("state"))}}
					c.status = http.StatusSeeOther
					c.body.Reset()
				}))
			},
		},
		{
			Name: "state-not-echoed", Tags: "@RFC6749-4.1.2",
			Description: "the authorization response leaves out state",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(func(*http.Request) bool { return true }, func(_ *http.Request, c *captured) {
					editLocation(c, func(q url.Values) { q.Del("state") })
				}))
			},
		},
		{
			Name: "iss-parameter-wrong", Tags: "@RFC9207-2",
			Description: "the iss authorization response parameter names another issuer",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(func(*http.Request) bool { return true }, func(_ *http.Request, c *captured) {
					editLocation(c, func(q url.Values) {
						if q.Has("iss") {
							q.Set("iss", q.Get("iss")+"/other")
						}
					})
				}))
			},
		},
		{
			Name: "prompt-none-ignored", Tags: "@OIDCC-3.1.2.6",
			Description: "prompt=none shows the login page instead of answering",
			inject: func(b *broken) {
				b.middleware("authserver", editRequest(func(r *http.Request) bool { return endpoint(r, "authorize") }, func(r *http.Request) {
					setForm(r, func(f url.Values) {
						if f.Get("prompt") == "none" {
							f.Del("prompt")
						}
					})
				}))
			},
		},
		{
			Name: "max-age-ignored", Tags: "@oidf:oidcc-max-age-1",
			Description: "max_age does not force a new login",
			inject: func(b *broken) {
				b.middleware("authserver", editRequest(func(r *http.Request) bool { return endpoint(r, "authorize") }, func(r *http.Request) {
					setForm(r, func(f url.Values) { f.Del("max_age") })
				}))
			},
		},
		{
			Name: "consent-skipped", Tags: "@OIDCC-3.1.2.1 && @needs:user:valid",
			Description: "the consent page is approved without asking the user",
			inject: func(b *broken) {
				b.middleware("authserver", func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						c := &captured{header: http.Header{}}
						next.ServeHTTP(c, r)
						if approve := autoApprove(r, c); approve != nil {
							keep := c.keep
							c = &captured{header: http.Header{}}
							next.ServeHTTP(c, approve)
							for _, v := range keep {
								c.header.Add("Set-Cookie", v)
							}
						}
						for k, v := range c.header {
							w.Header()[k] = v
						}
						if c.status == 0 {
							c.status = http.StatusOK
						}
						w.WriteHeader(c.status)
						_, _ = w.Write(c.body.Bytes())
					})
				})
			},
		},
		{
			Name: "password-not-checked", Tags: "@IRIS-ValidateUser",
			Description: "any password logs the user in",
			inject: func(b *broken) {
				h := authserver.WorkshopHooks(lazyUsers{b})
				h.ValidateUser = anyPassword{base: h.ValidateUser}
				b.opts.Trio.Hooks = &h
			},
		},
		{
			Name: "framing-allowed", Tags: "@RFC9700-4.16",
			Description: "the login page may be framed by any site (clickjacking)",
			inject: func(b *broken) {
				b.middleware("authserver", func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						next.ServeHTTP(framable{w}, r)
					})
				})
			},
		},
		{
			Name: "cache-control-missing", Tags: "@RFC6749-5.1",
			Description: "token responses may be cached",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(tokenRequest, func(_ *http.Request, c *captured) {
					c.header.Del("Cache-Control")
					c.header.Del("Pragma")
				}))
			},
		},
		{
			Name: "token-type-missing", Tags: "@RFC6749-5.1",
			Description: "the token response has no token_type",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(tokenRequest, func(_ *http.Request, c *captured) {
					editJSON(c, func(m map[string]any) { delete(m, "token_type") })
				}))
			},
		},
		{
			Name: "unsupported-grant-as-invalid-request", Tags: "@RFC6749-5.2",
			Description: "an unknown grant type is answered invalid_request",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(tokenRequest, func(_ *http.Request, c *captured) {
					editJSON(c, func(m map[string]any) {
						if m["error"] == "unsupported_grant_type" {
							m["error"] = "invalid_request"
						}
					})
				}))
			},
		},
		{
			Name: "no-basic-challenge", Tags: "@RFC6749-5.2",
			Description: "a 401 invalid_client has no WWW-Authenticate header",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(tokenRequest, func(_ *http.Request, c *captured) {
					c.header.Del("WWW-Authenticate")
				}))
			},
		},
		{
			Name: "error-description-bad-characters", Tags: "@RFC6749-5.2",
			Description: "error_description carries characters RFC 6749 forbids",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(tokenRequest, func(_ *http.Request, c *captured) {
					editJSON(c, func(m map[string]any) {
						if d, ok := m["error_description"].(string); ok {
							m["error_description"] = `"` + d + `"`
						}
					})
				}))
			},
		},
		{
			Name: "id-token-nonce-dropped", Tags: "@OIDCC-3.1.3.7",
			Description: "the ID token does not carry the request's nonce",
			inject: func(b *broken) {
				b.resignIDToken(func(c map[string]any) { delete(c, "nonce") })
			},
		},
		{
			Name: "id-token-aud-wrong", Tags: "@OIDCC-3.1.3.7",
			Description: "the ID token is issued for another audience",
			inject: func(b *broken) {
				b.resignIDToken(func(c map[string]any) { c["aud"] = []string{"someone-else"} })
			},
		},
		{
			Name: "id-token-at-hash-wrong", Tags: "@OIDCC-3.1.3.8",
			Description: "at_hash does not match the access token",
			inject: func(b *broken) {
				b.resignIDToken(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" })
			},
		},
		{
			Name: "id-token-auth-time-dropped", Tags: "@OIDCC-2",
			Description: "the ID token has no auth_time although max_age was sent",
			inject: func(b *broken) {
				b.resignIDToken(func(c map[string]any) { delete(c, "auth_time") })
			},
		},
		{
			Name: "discovery-issuer-wrong", Tags: "@OIDCD-4.3",
			Description: "the discovery document names another issuer",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/.well-known/") }, func(_ *http.Request, c *captured) {
					editJSON(c, func(m map[string]any) { m["issuer"] = "https://issuer.invalid/oauth2" })
				}))
			},
		},
		{
			Name: "jwks-private-key", Tags: "@OIDCD-3 && @needs:jwks",
			Description: "the JWK Set publishes private key material",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(func(r *http.Request) bool { return endpoint(r, "jwks") }, func(_ *http.Request, c *captured) {
					editJSON(c, func(m map[string]any) {
						if keys, ok := m["keys"].([]any); ok && len(keys) > 0 {
							if k, ok := keys[0].(map[string]any); ok {
								k["d"] = "cHJpdmF0ZQ"
							}
						}
					})
				}))
			},
		},
		{
			Name: "userinfo-sub-mismatch", Tags: "@OIDCC-5.3.2",
			Description: "userinfo names another subject than the ID token",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(func(r *http.Request) bool { return endpoint(r, "userinfo") }, func(_ *http.Request, c *captured) {
					editJSON(c, func(m map[string]any) { m["sub"] = "someone-else" })
				}))
			},
		},
		{
			Name: "introspection-always-active", Tags: "@RFC7662-2.2",
			Description: "introspection reports every token active",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(func(r *http.Request) bool { return endpoint(r, "introspection") }, func(_ *http.Request, c *captured) {
					editJSON(c, func(m map[string]any) {
						if _, ok := m["active"]; ok {
							m["active"] = true
						}
					})
				}))
			},
		},
		{
			Name: "introspection-without-authentication", Tags: "@RFC7662-2.1",
			Description: "introspection answers callers that did not authenticate",
			inject: func(b *broken) {
				b.middleware("authserver", editRequest(func(r *http.Request) bool {
					return endpoint(r, "introspection") && r.Header.Get("Authorization") == ""
				}, func(r *http.Request) {
					rs, _ := b.trio.Fixtures.ClientFor(fixture.RoleResourceServer)
					r.SetBasicAuth(rs.ID, rs.Secret)
				}))
			},
		},
		{
			Name: "access-token-typ-jwt", Tags: "@RFC9068-2.1",
			Description: "access tokens are typed JWT, not at+jwt",
			inject: func(b *broken) {
				b.middleware("authserver", rewrite(tokenRequest, func(r *http.Request, c *captured) {
					editJSON(c, func(m map[string]any) {
						raw, _ := m["access_token"].(string)
						claims, header, err := decodeUnverified(raw)
						if err != nil {
							return
						}
						header["typ"] = "JWT"
						if tok, _, err := b.trio.Keys.Signer().Generate(r.Context(), claims, &jwt.Headers{Extra: header}); err == nil {
							m["access_token"] = tok
						}
					})
				}))
			},
		},
		{
			Name: "rs-accepts-alg-none", Tags: "@RFC6750-3",
			Description: "the resource server accepts unsigned tokens",
			inject: func(b *broken) {
				b.middleware("resserver", acceptAt(func(r *http.Request) bool {
					_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
					h, _, _ := strings.Cut(tok, ".")
					raw, err := base64.RawURLEncoding.DecodeString(h)
					return err == nil && strings.Contains(string(raw), `"none"`)
				}))
			},
		},
		{
			Name: "rs-ignores-scope", Tags: "@RFC6750-3",
			Description: "the resource server serves tokens without the required scope",
			inject: func(b *broken) {
				b.middleware("resserver", rewrite(func(*http.Request) bool { return true }, func(_ *http.Request, c *captured) {
					if c.status == http.StatusForbidden {
						c.status = http.StatusOK
						c.header.Del("WWW-Authenticate")
						c.body.Reset()
						c.body.WriteString(`{"message":"ok"}`)
					}
				}))
			},
		},
		{
			Name: "rs-challenge-without-error", Tags: "@RFC6750-3.1",
			Description: "the resource server's challenge never names the error",
			inject: func(b *broken) {
				b.middleware("resserver", rewrite(func(*http.Request) bool { return true }, func(_ *http.Request, c *captured) {
					if c.header.Get("WWW-Authenticate") != "" {
						c.header.Set("WWW-Authenticate", `Bearer realm="resserver"`)
					}
				}))
			},
		},
	}
}
