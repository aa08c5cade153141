package authserver

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/oauthtrio/oauthtrio/reference/internal/fault"
)

// An interaction is an authorization request waiting for the user to log
// in and consent. The parsed fosite request is kept in memory: the pages
// post back only the interaction's random id and a CSRF token, so nothing
// of the request can be altered in between.
type interaction struct {
	id          string
	csrfToken   string
	browser     string // the browser cookie that started it
	address     string // the source address that started it
	request     fosite.AuthorizeRequester
	auth        *Authorization
	requestedAt time.Time
	expires     time.Time
	elem        *list.Element

	// Set after a successful login during this interaction.
	identity *Identity
	authTime time.Time
	loginID  string
}

// InteractionLimits bound the pending login and consent forms, which live
// in memory and cost nothing to start: without bounds, one client could
// fill the table and lock every user out.
type InteractionLimits struct {
	// Lifetime of a pending form; default 10 minutes.
	Lifetime time.Duration
	// PerBrowser pending forms; one more drops that browser's oldest.
	// Default 16 (tabs the user may have open).
	PerBrowser int
	// PerAddress pending forms from one source address (an IPv6 /64);
	// one more drops that address's oldest. Default 256.
	PerAddress int
	// Max pending forms in all; one more drops the oldest form of the
	// address holding the most, so a flood evicts its own. Default 10000.
	Max int
}

func (l *InteractionLimits) defaults() {
	setDuration(&l.Lifetime, 10*time.Minute)
	for _, f := range []struct {
		v   *int
		def int
	}{{&l.PerBrowser, 16}, {&l.PerAddress, 256}, {&l.Max, 10000}} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
}

type interactions struct {
	limits InteractionLimits

	mu        sync.Mutex
	m         map[string]*interaction
	order     *list.List // oldest first; all share one lifetime
	byBrowser map[string][]*interaction
	byAddress map[string][]*interaction
}

func newInteractions(limits InteractionLimits) *interactions {
	return &interactions{
		limits: limits, m: map[string]*interaction{}, order: list.New(),
		byBrowser: map[string][]*interaction{}, byAddress: map[string][]*interaction{},
	}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sourceAddress groups requests by where they come from: the IP address,
// or its /64 for IPv6, which one host usually holds whole.
func sourceAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// start records a new interaction, making room by the limits' rules; it
// never refuses.
func (s *interactions) start(browser, address string, ar fosite.AuthorizeRequester, auth *Authorization, requestedAt time.Time) *interaction {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	if own := s.byBrowser[browser]; len(own) >= s.limits.PerBrowser {
		s.remove(own[0])
	}
	if own := s.byAddress[address]; len(own) >= s.limits.PerAddress {
		s.remove(own[0])
	}
	if len(s.m) >= s.limits.Max {
		s.remove(s.heaviestAddressOldest())
	}
	it := &interaction{
		id: randomToken(), csrfToken: randomToken(), browser: browser, address: address,
		request: ar, auth: auth, requestedAt: requestedAt, expires: now.Add(s.limits.Lifetime),
	}
	it.elem = s.order.PushBack(it)
	s.m[it.id] = it
	s.byBrowser[browser] = append(s.byBrowser[browser], it)
	s.byAddress[address] = append(s.byAddress[address], it)
	return it
}

// expire drops the interactions whose lifetime is over, oldest first.
func (s *interactions) expire(now time.Time) {
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		it := e.Value.(*interaction)
		if now.Before(it.expires) {
			return
		}
		s.remove(it)
	}
}

func (s *interactions) heaviestAddressOldest() *interaction {
	var heaviest []*interaction
	for _, its := range s.byAddress {
		if len(its) > len(heaviest) {
			heaviest = its
		}
	}
	return heaviest[0]
}

func (s *interactions) remove(it *interaction) {
	if _, ok := s.m[it.id]; !ok {
		return
	}
	delete(s.m, it.id)
	s.order.Remove(it.elem)
	drop := func(index map[string][]*interaction, key string) {
		rest := slices.DeleteFunc(index[key], func(x *interaction) bool { return x == it })
		if len(rest) == 0 {
			delete(index, key)
		} else {
			index[key] = rest
		}
	}
	drop(s.byBrowser, it.browser)
	drop(s.byAddress, it.address)
}

// get returns the interaction if the id, the browser cookie and the CSRF
// token all match. The comparisons are constant-time.
func (s *interactions) get(id, browser, csrfToken string) (*interaction, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.m[id]
	if !ok {
		return nil, false
	}
	if time.Now().After(it.expires) {
		s.remove(it)
		return nil, false
	}
	if (subtle.ConstantTimeCompare([]byte(it.browser), []byte(browser)) != 1 ||
		subtle.ConstantTimeCompare([]byte(it.csrfToken), []byte(csrfToken)) != 1) && !fault.On("login-csrf-unchecked") {
		return nil, false
	}
	return it, true
}

func (s *interactions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it, ok := s.m[id]; ok {
		s.remove(it)
	}
}

// browserCookies mints the browser-binding cookie's values: random, with
// an HMAC under the server's secret. A value the server did not mint is
// refused, so an attacker cannot plant one of their choosing and prepare
// forms for it (login CSRF).
type browserCookies struct{ key []byte }

func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func (b browserCookies) mac(nonce string) string {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (b browserCookies) mint() string {
	nonce := randomToken()
	return nonce + "." + b.mac(nonce)
}

func (b browserCookies) valid(v string) bool {
	nonce, mac, ok := strings.Cut(v, ".")
	return ok && nonce != "" && hmac.Equal([]byte(mac), []byte(b.mac(nonce)))
}
