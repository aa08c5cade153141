package authserver

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/ory/fosite"
)

// An interaction is an authorization request waiting for the user to log
// in and consent. The parsed fosite request is kept in memory: the pages
// post back only the interaction's random id and a CSRF token, so nothing
// of the request can be altered in between.
type interaction struct {
	id          string
	csrfToken   string
	browser     string // the browser cookie that started it
	request     fosite.AuthorizeRequester
	auth        *Authorization
	requestedAt time.Time
	expires     time.Time

	// Set after a successful login during this interaction.
	identity *Identity
	authTime time.Time
	loginID  string
}

type interactions struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*interaction
}

// maxInteractions bounds memory: a flood of authorization requests evicts
// expired entries first and then refuses new ones.
const maxInteractions = 10000

func newInteractions(ttl time.Duration) *interactions {
	return &interactions{ttl: ttl, m: map[string]*interaction{}}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *interactions) start(browser string, ar fosite.AuthorizeRequester, auth *Authorization, requestedAt time.Time) (*interaction, bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxInteractions {
		for id, it := range s.m {
			if now.After(it.expires) {
				delete(s.m, id)
			}
		}
		if len(s.m) >= maxInteractions {
			return nil, false
		}
	}
	it := &interaction{
		id: randomToken(), csrfToken: randomToken(), browser: browser,
		request: ar, auth: auth, requestedAt: requestedAt, expires: now.Add(s.ttl),
	}
	s.m[it.id] = it
	return it, true
}

// take returns the interaction if the id, the browser cookie and the CSRF
// token all match. The comparisons are constant-time.
func (s *interactions) get(id, browser, csrfToken string) (*interaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.m[id]
	if !ok || time.Now().After(it.expires) {
		delete(s.m, id)
		return nil, false
	}
	if subtle.ConstantTimeCompare([]byte(it.browser), []byte(browser)) != 1 ||
		subtle.ConstantTimeCompare([]byte(it.csrfToken), []byte(csrfToken)) != 1 {
		return nil, false
	}
	return it, true
}

func (s *interactions) end(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// consents remembers which scopes a user granted a client, so a later
// authorization (and prompt=none) need not ask again. They live as long as
// the process; a restart asks once more.
type consents struct {
	mu sync.Mutex
	m  map[string]map[string]bool
}

func newConsents() *consents { return &consents{m: map[string]map[string]bool{}} }

func consentKey(user, client string) string { return user + "\x00" + client }

func (c *consents) grant(user, client string, scopes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := consentKey(user, client)
	if c.m[k] == nil {
		c.m[k] = map[string]bool{}
	}
	for _, s := range scopes {
		c.m[k][s] = true
	}
}

func (c *consents) covers(user, client string, scopes []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	granted := c.m[consentKey(user, client)]
	for _, s := range scopes {
		if !granted[s] {
			return false
		}
	}
	return true
}
