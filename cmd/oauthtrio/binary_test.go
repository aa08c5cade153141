package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oauthtrio/oauthtrio/steps/browser"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	buildDir  string
)

// builtBinary builds cmd/oauthtrio once per test binary: signals and exit
// statuses are checked on the real process.
func builtBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "oauthtrio-bin-")
		if buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "oauthtrio")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building oauthtrio: %v", buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// check --chromium with a path that cannot run fails within seconds,
// saying so, instead of hanging on a browser that never started.
func TestCheckBrowserCannotStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference trio; skipped with -short")
	}
	cmd := exec.Command(builtBinary(t), "check", "--chromium", "/nonexistent/chromium", "--report", t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	code := runWithin(t, cmd, 60*time.Second)
	if code != 2 {
		t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "the browser could not start: ") {
		t.Errorf("stderr lacks the reason:\n%s", stderr.String())
	}
	t.Logf("failed after %s", time.Since(start).Round(time.Millisecond))
}

// On SIGINT or SIGTERM the run stops within 5 s, writes a partial report
// marked INTERRUPTED and exits 130; a second signal exits at once.
func TestCheckInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite against the reference trio; skipped with -short")
	}
	if _, err := browser.FindChromium(); err != nil {
		t.Skip("needs Chromium, so that scenarios are running when the signal comes")
	}
	tests := []struct {
		name    string
		signals []os.Signal
	}{
		{"SIGINT", []os.Signal{syscall.SIGINT}},
		{"SIGTERM", []os.Signal{syscall.SIGTERM}},
		{"second signal", []os.Signal{syscall.SIGINT, syscall.SIGINT}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(builtBinary(t), "check", "--report", dir, "--concurrency", "2")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			r := bufio.NewReader(io.TeeReader(stdout, &out))
			// Wait for the first finished scenario: the run is under way.
			sawHeader := false
			for {
				line, err := r.ReadString('\n')
				if err != nil && !sawHeader {
					cmd.Process.Kill()
					t.Fatalf("no scenario header: %v\n%s\n%s", err, out.String(), stderr.String())
				}
				if strings.Contains(line, "scenarios,") {
					sawHeader = true
					break
				}
			}
			if _, err := r.ReadByte(); err != nil { // the first progress mark
				t.Fatalf("no progress: %v", err)
			}
			done := make(chan struct{})
			go func() { io.Copy(io.Discard, r); close(done) }()

			sent := time.Now()
			for i, sig := range tt.signals {
				if i > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
			}
			code := runWithin(t, cmd, 5*time.Second)
			took := time.Since(sent)
			<-done
			if code != exitInterrupted {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, out.String(), stderr.String())
			}
			t.Logf("stopped %s after the signal", took.Round(time.Millisecond))
			if len(tt.signals) > 1 {
				return // exits at once: no report promised
			}
			if !strings.Contains(out.String(), "Result: INTERRUPTED") {
				t.Errorf("the console does not say INTERRUPTED:\n%s", out.String())
			}
			for _, name := range []string{"report.html", "junit.xml", "cucumber.json"} {
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if !bytes.Contains(data, []byte("INTERRUPTED")) {
					t.Errorf("%s does not say INTERRUPTED", name)
				}
			}
		})
	}
}

// runWithin waits for a started (or not yet started) command and returns
// its exit status; it fails the test and kills the process after limit.
func runWithin(t *testing.T, cmd *exec.Cmd, limit time.Duration) int {
	t.Helper()
	if cmd.Process == nil {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatal(err)
	case <-time.After(limit):
		cmd.Process.Kill()
		<-waited
		t.Fatalf("still running after %s", limit)
	}
	return -1
}
