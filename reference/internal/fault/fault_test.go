package fault

import (
	"slices"
	"testing"
)

func TestOn(t *testing.T) {
	t.Setenv(Env, "")
	if On("token-code-reuse") {
		t.Fatal("a fault is on with OAUTHTRIO_FAULTS empty")
	}
	t.Setenv(Env, "a, token-code-reuse ,b")
	if !On("token-code-reuse") || !On("a") || On("token-code") {
		t.Fatalf("On does not match exact names in %q", "a, token-code-reuse ,b")
	}
	if got := Active(); !slices.Equal(got, []string{"a", "token-code-reuse", "b"}) {
		t.Fatalf("Active() = %q", got)
	}
}
