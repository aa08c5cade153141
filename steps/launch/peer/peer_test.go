package peer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFreePorts(t *testing.T) {
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Errorf("port %d handed out twice: %v", p, ports)
		}
		seen[p] = true
		if !PortFree(p) {
			t.Errorf("port %d is not free after FreePorts returned", p)
		}
	}
}

// TestStopEndsTheGroup starts a shell whose child would outlive a plain
// kill of the shell, and checks that Stop ends both.
func TestStopEndsTheGroup(t *testing.T) {
	p, err := Start(t.TempDir(), []string{"PEER_TEST=1"}, "sh", "-c", `echo "started $PEER_TEST"; sleep 30 & wait`)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Output(), "started 1") {
		if time.Now().After(deadline) {
			t.Fatalf("no output from the process: %q", p.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	p.Stop(5 * time.Second)
	if exited, _ := p.Exited(); !exited {
		t.Fatal("the process is still running after Stop")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Stop took %s: SIGTERM did not reach the group", d)
	}
}

// TestWaitForDiscovery polls an HTTPS issuer through the client given,
// which alone trusts the test server's certificate.
func TestWaitForDiscovery(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/issuer/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		// Not ready for the first two polls, as a provider still starting.
		if calls.Add(1) <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	p, err := Start(t.TempDir(), nil, "sleep", "30")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	if err := p.WaitForDiscovery(context.Background(), srv.Client(), srv.URL+"/issuer/", 10*time.Millisecond, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("discovery was polled %d times, want 3", n)
	}
}

func TestWaitForDiscoveryNoticesAnExit(t *testing.T) {
	p, err := Start(t.TempDir(), nil, "sh", "-c", "exit 3")
	if err != nil {
		t.Fatal(err)
	}
	ports, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	err = p.WaitForDiscovery(context.Background(), nil, issuer, 10*time.Millisecond, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("got %v, want an error saying the process exited", err)
	}
}
