package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/oauthtrio/oauthtrio/steps/launch/iris"
)

func TestCheckTargetUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--target", "no-such-target"},
		{"--target", "iris-container", "--config", "x.yaml"},
		{"--target", "iris-container", "--issuer", "https://example.org"},
	} {
		var stdout, stderr bytes.Buffer
		if code := check(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "-target") {
			t.Errorf("%v: the message does not name -target: %s", args, stderr.String())
		}
	}
}

// Without a Docker engine, --target iris-container exits 2 and says where
// to read on.
func TestCheckIRISContainerWithoutDocker(t *testing.T) {
	if iris.Healthy(context.Background()) == nil {
		t.Skip("a Docker engine answers; this checks the message when there is none")
	}
	var stdout, stderr bytes.Buffer
	code := check([]string{"--target", "iris-container", "--report", t.TempDir()}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{"no Docker engine", `README "Testing a real IRIS"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}
