package browser

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

func (m Marker) String() string {
	var parts []string
	for _, p := range []struct{ name, v string }{{"selector", m.Selector}, {"text_pattern", m.TextPattern}, {"url_pattern", m.URLPattern}} {
		if p.v != "" {
			parts = append(parts, fmt.Sprintf("%s %q", p.name, p.v))
		}
	}
	return strings.Join(parts, " and ")
}

// matcher is a Marker with its patterns compiled.
type matcher struct {
	Marker
	text, url *regexp.Regexp
}

func (m matcher) matches(st pageState) bool {
	return (m.Selector == "" || st.Present[m.Selector]) &&
		(m.text == nil || m.text.MatchString(st.Text)) &&
		(m.url == nil || m.url.MatchString(st.URL))
}

// WaitForMarker waits until the page shows one of the markers and returns
// its index. A marker holds when all of its parts do.
func (s *Session) WaitForMarker(markers ...Marker) (int, error) {
	ms := make([]matcher, len(markers))
	var selectors, names []string
	for i, m := range markers {
		if m.empty() {
			return -1, fmt.Errorf("browser: marker %d is empty", i+1)
		}
		ms[i].Marker = m
		var err error
		if m.TextPattern != "" {
			if ms[i].text, err = regexp.Compile(m.TextPattern); err != nil {
				return -1, fmt.Errorf("browser: text_pattern %q: %w", m.TextPattern, err)
			}
		}
		if m.URLPattern != "" {
			if ms[i].url, err = regexp.Compile(m.URLPattern); err != nil {
				return -1, fmt.Errorf("browser: url_pattern %q: %w", m.URLPattern, err)
			}
		}
		if m.Selector != "" {
			selectors = append(selectors, m.Selector)
		}
		names = append(names, m.String())
	}
	found := -1
	err := s.poll("the page to show "+strings.Join(names, ", or "), func(ctx context.Context) (bool, error) {
		st, err := s.sample(ctx, selectors)
		if err != nil {
			return false, err
		}
		for i, m := range ms {
			if m.matches(st) {
				found = i
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

// RecordRequests records, from now on until stop, the URL (fragment
// included) of every request the session's pages make: navigations, each
// redirect hop and subresources. list returns them so far. A session
// handed on to another scenario must be stopped first.
func (s *Session) RecordRequests() (list func() []string, stop func(), err error) {
	var mu sync.Mutex
	var urls []string
	rctx, stop := context.WithCancel(s.ctx)
	events := chromedp.Events(rctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			if ev.Request != nil {
				mu.Lock()
				urls = append(urls, ev.Request.URL+ev.Request.URLFragment)
				mu.Unlock()
			}
		}
	}()
	ctx, cancel := s.actionCtx()
	defer cancel()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		stop()
		return nil, nil, fmt.Errorf("browser: recording requests: %w", err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), urls...)
	}, stop, nil
}
