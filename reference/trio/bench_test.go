package trio_test

import (
	"bufio"
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/reference/trio"
)

// BenchmarkFlows is the load check: whole authorization code flows (login
// with the production bcrypt cost, code exchange, one refresh) against a
// trio on disk, at 8 and 32 concurrent users. Any failed request fails the
// benchmark. It reports flows/s, the 99th percentile of a flow's duration
// and how much the process's resident memory grew.
//
//	go test ./reference/trio -run '^$' -bench BenchmarkFlows -benchtime 200x
func BenchmarkFlows(b *testing.B) {
	for _, concurrency := range []int{8, 32} {
		b.Run("concurrency-"+strconv.Itoa(concurrency), func(b *testing.B) {
			benchmarkFlows(b, concurrency)
		})
	}
}

func benchmarkFlows(b *testing.B, concurrency int) {
	state := privateDir(b)
	tr, err := trio.Start(context.Background(), trio.Config{Addr: "127.0.0.1:0", StateDir: state})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Close(context.Background()) })
	p := newPeer(b, state, tr.Front.Addr())
	ctx := context.Background()
	// The first flow asks for consent; the measured ones do not.
	if _, err := p.flow(ctx); err != nil {
		b.Fatal(err)
	}
	rssBefore := residentBytes()

	var next atomic.Int64
	var mu sync.Mutex
	durations := make([]time.Duration, 0, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				start := time.Now()
				tok, err := p.flow(ctx)
				if err == nil {
					_, err = p.refresh(ctx, tok.RefreshToken)
				}
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				durations = append(durations, time.Since(start))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if b.Failed() {
		return
	}
	slices.Sort(durations)
	p99 := durations[(len(durations)*99+99)/100-1] // the nearest-rank 99th percentile
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(residentBytes()-rssBefore)/(1<<20), "rss-growth-MB")
	b.ReportMetric(0, "ns/op") // flows/s says it better
}

// residentBytes is the process's resident set size from /proc, or 0 where
// there is none.
func residentBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
