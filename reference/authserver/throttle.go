package authserver

import (
	"sync"
	"time"
)

// ThrottlePolicy slows down password guessing at the login form. After the
// free failures, each further failure doubles the wait before the next
// attempt, up to MaxDelay; a record is forgotten after Forget without
// failures. There is no permanent lockout, which an attacker could use to
// lock a user out for good.
type ThrottlePolicy struct {
	// FreeFailuresPerUser before a user's attempts are delayed; default 5.
	FreeFailuresPerUser int
	// FreeFailuresPerAddress before a source address's attempts are
	// delayed, whichever user they name; default 20.
	FreeFailuresPerAddress int
	// FirstDelay is the first wait; default 1 s.
	FirstDelay time.Duration
	// MaxDelay caps the wait; default 1 minute.
	MaxDelay time.Duration
	// Forget drops a record this long after its last failure; default 15
	// minutes.
	Forget time.Duration
}

func (p *ThrottlePolicy) defaults() {
	if p.FreeFailuresPerUser <= 0 {
		p.FreeFailuresPerUser = 5
	}
	if p.FreeFailuresPerAddress <= 0 {
		p.FreeFailuresPerAddress = 20
	}
	setDuration(&p.FirstDelay, time.Second)
	setDuration(&p.MaxDelay, time.Minute)
	setDuration(&p.Forget, 15*time.Minute)
}

// maxThrottleRecords bounds memory against a flood of made-up usernames.
const maxThrottleRecords = 100000

type failures struct {
	count int
	last  time.Time
	next  time.Time // no attempt before this
}

type throttle struct {
	policy ThrottlePolicy
	mu     sync.Mutex
	m      map[string]*failures
}

func newThrottle(p ThrottlePolicy) *throttle {
	return &throttle{policy: p, m: map[string]*failures{}}
}

// loginKeys name the records a login attempt counts against.
func loginKeys(username, address string) (user, addr string) {
	return "user\x00" + username, "addr\x00" + address
}

// wait is how long the caller must wait before trying these keys again.
func (t *throttle) wait(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		if f, ok := t.m[k]; ok && f.next.After(now) {
			longest = max(longest, f.next.Sub(now))
		}
	}
	return longest
}

// fail records a failed attempt against the user and the address.
func (t *throttle) fail(now time.Time, userKey, addrKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxThrottleRecords {
		t.forget(now)
	}
	t.record(now, userKey, t.policy.FreeFailuresPerUser)
	t.record(now, addrKey, t.policy.FreeFailuresPerAddress)
}

func (t *throttle) record(now time.Time, key string, free int) {
	f, ok := t.m[key]
	if !ok || now.Sub(f.last) > t.policy.Forget {
		f = &failures{}
		t.m[key] = f
	}
	f.count++
	f.last = now
	if over := f.count - free; over > 0 {
		delay := t.policy.MaxDelay
		if over <= 30 {
			delay = min(t.policy.FirstDelay<<(over-1), t.policy.MaxDelay)
		}
		f.next = now.Add(delay)
	}
}

// forget drops stale records and, if that is not enough, arbitrary ones:
// losing a record only shortens someone's wait.
func (t *throttle) forget(now time.Time) {
	for k, f := range t.m {
		if now.Sub(f.last) > t.policy.Forget {
			delete(t.m, k)
		}
	}
	for k := range t.m {
		if len(t.m) < maxThrottleRecords {
			break
		}
		delete(t.m, k)
	}
}

// succeed clears a user's record after a correct password.
func (t *throttle) succeed(userKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, userKey)
}
