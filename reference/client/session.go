package client

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// sessionCookieName names the cookie that carries the session identifier; the
// cookie holds nothing else, so tokens never reach the browser's storage.
const sessionCookieName = "oauthtrio_client_session"

// pendingLifetime bounds how long an authorization request may take, login
// and consent included.
const pendingLifetime = 10 * time.Minute

// session is the server-side state of one browser.
type session struct {
	expires time.Time
	// csrf is the synchroniser token the page's POST forms must echo.
	csrf string
	// pending is the outstanding authorization request, if any.
	pending *pendingAuthorization
	// tokens are set once the callback has succeeded.
	tokens *tokenSet
	// flash holds errors to show once on the next page view, so that the
	// callback, refresh and logout can redirect (POST/redirect/GET).
	flash []stepError
}

// pendingAuthorization binds an authorization response to the request this
// browser made (RFC 6749 §10.12, OIDC Core §3.1.2.1, RFC 7636 §4.1).
type pendingAuthorization struct {
	state, nonce, verifier string
	expires                time.Time
}

// tokenSet is what the token endpoint returned, with the verified ID token.
type tokenSet struct {
	token         *oauth2.Token
	idToken       string
	idTokenClaims []byte
	subject       string
}

// sessionStore keeps sessions in memory. This client is a demonstration run
// as one process: losing the sessions on restart only means logging in again,
// and no other instance needs to share them.
type sessionStore struct {
	mu       sync.Mutex
	sessions map[string]*session
	lifetime time.Duration
	now      func() time.Time
	nextScan time.Time
}

func newSessionStore(lifetime time.Duration, now func() time.Time) *sessionStore {
	return &sessionStore{sessions: map[string]*session{}, lifetime: lifetime, now: now}
}

// create starts a session and returns its identifier.
func (s *sessionStore) create() string {
	id, csrf := randomToken(), randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	s.sessions[id] = &session{expires: s.now().Add(s.lifetime), csrf: csrf}
	return id
}

// load returns a copy of the session and extends its lifetime.
func (s *sessionStore) load(id string) (session, bool) {
	var found session
	ok := s.update(id, func(sess *session) { found = *sess })
	return found, ok
}

// update runs fn on the live session under the store's lock; fn must not
// block. It reports whether the session exists.
func (s *sessionStore) update(id string, fn func(*session)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return false
	}
	now := s.now()
	if now.After(sess.expires) {
		delete(s.sessions, id)
		return false
	}
	sess.expires = now.Add(s.lifetime)
	fn(sess)
	return true
}

// rotate moves a session to a fresh identifier, so that an identifier known
// before login is worthless after it (session fixation).
func (s *sessionStore) rotate(id string) (string, bool) {
	fresh := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok || s.now().After(sess.expires) {
		delete(s.sessions, id)
		return "", false
	}
	delete(s.sessions, id)
	sess.csrf = randomToken()
	s.sessions[fresh] = sess
	return fresh, true
}

func (s *sessionStore) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// sweepLocked drops expired sessions, at most once a minute, so that
// abandoned logins do not accumulate.
func (s *sessionStore) sweepLocked() {
	now := s.now()
	if now.Before(s.nextScan) {
		return
	}
	s.nextScan = now.Add(time.Minute)
	for id, sess := range s.sessions {
		if now.After(sess.expires) {
			delete(s.sessions, id)
		}
	}
}

// randomToken returns 256 random bits, base64url-encoded; it serves for
// session identifiers, CSRF tokens, state and nonce (RFC 6749 §10.10 asks for
// at least 128 bits of entropy where guessing must be infeasible).
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func equalSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// cookieSpec describes the session cookie.
type cookieSpec struct {
	name, path string
}

// sessionID returns the identifier the browser sent, if any.
func (c cookieSpec) sessionID(r *http.Request) string {
	ck, err := r.Cookie(c.name)
	if err != nil {
		return ""
	}
	return ck.Value
}

// set sends the session cookie. Lax lets the top-level redirect back from the
// authorization server carry it while keeping it off cross-site POSTs.
func (c cookieSpec) set(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name:     c.name,
		Value:    id,
		Path:     c.path,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

func (c cookieSpec) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     c.name,
		Path:     c.path,
		MaxAge:   -1,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}
