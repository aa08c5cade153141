package reference

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/fixtures"
	"github.com/oauthtrio/oauthtrio/internal/selfsigned"
	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/callback"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
)

// BenchmarkLoginAndConsent measures what the step "the user logs in and
// approves the request" costs against the reference: a fresh browser
// context, the login page, the redirect (the consent given by the
// warm-up flow is remembered, as in a run), with
// "flows" of them running at once as the suite's scenarios do. s/flow is
// the median wall time of one flow; with no serialization it stays near
// its value at flows=1 until the two cores run out.
//
//	go test -run '^$' -bench LoginAndConsent -benchtime 24x ./steps/launch/reference/
func BenchmarkLoginAndConsent(b *testing.B) {
	if _, err := browser.FindChromium(); err != nil {
		b.Skip(err)
	}
	ctx := context.Background()
	ref, err := Start(ctx, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ref.Close(ctx)
	cfg := ref.Config
	web, _ := cfg.Client(issuer.RoleWeb)

	lo, err := callback.OptionsFor(web.RedirectURI)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := callback.Listen(lo)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()

	certs, _, err := selfsigned.ReadFile(cfg.TLS.CAFile)
	if err != nil {
		b.Fatal(err)
	}
	// As many warm sessions as the most flows at once, as the runner keeps.
	bo := browser.Options{TrustSPKI: []string{selfsigned.SPKIHash(ln.Certificate())}, Warm: 4}
	for _, c := range certs {
		bo.TrustSPKI = append(bo.TrustSPKI, selfsigned.SPKIHash(c))
	}
	// Extra Chromium flags to compare, e.g.
	// OAUTHTRIO_BENCH_CHROMIUM_FLAGS="disable-features=Translate".
	if f := os.Getenv("OAUTHTRIO_BENCH_CHROMIUM_FLAGS"); f != "" {
		bo.ExtraFlags = strings.Fields(f)
	}
	br, err := browser.Start(ctx, bo)
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	profile := referenceProfile(b)

	hc, err := cfg.HTTPClient()
	if err != nil {
		b.Fatal(err)
	}
	meta, err := issuer.Discover(ctx, hc, cfg.Issuer)
	if err != nil {
		b.Fatal(err)
	}
	user := cfg.Users.Valid

	flow := func(i int) error {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		sess, closeSess, err := br.NewSession(sctx)
		if err != nil {
			return err
		}
		defer closeSess()
		q := url.Values{
			"client_id": {web.ID}, "redirect_uri": {web.RedirectURI}, "response_type": {"code"},
			"scope": {"openid"}, "state": {fmt.Sprintf("state-%08d", i)}, "nonce": {fmt.Sprintf("nonce-%08d", i)},
		}
		res, err := sess.Authorize(sctx, browser.AuthorizeRequest{
			URL: meta.AuthorizationEndpoint + "?" + q.Encode(), RedirectPrefix: web.RedirectURI,
			Profile: profile, Username: user.Username, Password: user.Password,
		})
		if err != nil {
			return err
		}
		if !res.LoginShown {
			return fmt.Errorf("pages: %v", res.Trace)
		}
		return nil
	}
	if err := flow(-1); err != nil { // warm up the server's and Chromium's caches
		b.Fatal(err)
	}

	for _, flows := range []int{1, 4} {
		b.Run(fmt.Sprintf("flows=%d", flows), func(b *testing.B) {
			var (
				mu    sync.Mutex
				times []time.Duration
				errs  []error
			)
			sem := make(chan struct{}, flows)
			var wg sync.WaitGroup
			// b.N rather than b.Loop: the timer must run until the last
			// flow ends, and b.Loop stops it when it returns false.
			b.ResetTimer()
			for i := range b.N {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					start := time.Now()
					err := flow(i)
					mu.Lock()
					times = append(times, time.Since(start))
					if err != nil {
						errs = append(errs, err)
					}
					mu.Unlock()
				})
			}
			wg.Wait()
			if len(errs) > 0 {
				b.Fatalf("%d of %d flows failed, first: %v", len(errs), len(times), errs[0])
			}
			slices.Sort(times)
			b.ReportMetric(times[len(times)/2].Seconds(), "s/flow")
			b.ReportMetric(times[len(times)*9/10].Seconds(), "s/flow-p90")
		})
	}
}

func referenceProfile(tb testing.TB) *browser.Profile {
	ps, err := browser.LoadProfiles(fixtures.Profiles, "profiles")
	if err != nil {
		tb.Fatal(err)
	}
	p := ps["reference"]
	if p == nil {
		tb.Fatal("no reference login profile among the fixtures")
	}
	return p
}
