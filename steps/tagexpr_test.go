package steps

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTagExpression(t *testing.T) {
	tags := []string{"@RFC6749-4.1.2", "@needs:browser", "@should"}
	tests := []struct {
		expr, godog string
		match       bool
	}{
		{"@RFC6749-4.1.2", "@RFC6749-4.1.2", true},
		{"RFC6749-4.1.2", "@RFC6749-4.1.2", true},
		{"~@should", "~@should", false},
		{"@needs:browser && ~@should", "@needs:browser && ~@should", false},
		{"@nothing, @should", "@nothing,@should", true},
		{"@nothing || @should", "@nothing,@should", true},
		{"@nothing or @should", "@nothing,@should", true},
		{"@needs:browser and not @should", "@needs:browser && ~@should", false},
		{"not @nothing", "~@nothing", true},
	}
	for _, tt := range tests {
		e, godog, err := parseTagExpression(tt.expr)
		require.NoError(t, err, tt.expr)
		assert.Equal(t, tt.godog, godog, tt.expr)
		assert.Equal(t, tt.match, e.matches(tags), tt.expr)
	}
	for _, bad := range []string{"@a &&", ",", "(@a)", "@a && (@b, @c)", "@a b", "~"} {
		_, _, err := parseTagExpression(bad)
		assert.Error(t, err, bad)
	}
	e, godog, err := parseTagExpression("  ")
	require.NoError(t, err)
	assert.Empty(t, godog)
	assert.True(t, e.matches(nil), "no expression selects everything")
}
