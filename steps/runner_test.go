package steps

import "testing"

func TestJoinTags(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"", "", ""},
		{"@a", "", "@a"},
		{"", "~@x && ~@y", "~@x && ~@y"},
		{"@a", "~@x", "@a && ~@x"},
		{"@a && ~@b", "~@x", "@a && ~@b && ~@x"},
		{"@a, @b", "~@x && ~@y", "@a && ~@x && ~@y,@b && ~@x && ~@y"},
	}
	for _, tt := range tests {
		if got := joinTags(tt.a, tt.b); got != tt.want {
			t.Errorf("joinTags(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}
