package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A written report loads back whole: every record as it was, and the same
// JUnit and cucumber JSON.
func TestLoadRoundTrip(t *testing.T) {
	r := sampleReport(t)
	dir := t.TempDir()
	require.NoError(t, r.WriteAll(dir))
	loaded, err := Load(dir)
	require.NoError(t, err)

	assert.Equal(t, r.Counts(), loaded.Counts())
	assert.Equal(t, asJSON(t, r.Scenarios()), asJSON(t, loaded.Scenarios()))
	var a, b bytes.Buffer
	require.NoError(t, r.junit(&a))
	require.NoError(t, loaded.junit(&b))
	assert.Equal(t, a.String(), b.String())
	a.Reset()
	b.Reset()
	require.NoError(t, r.cucumber(&a))
	require.NoError(t, loaded.cucumber(&b))
	assert.Equal(t, a.String(), b.String())

	_, err = Load(t.TempDir())
	assert.ErrorContains(t, err, "no results.json")
}

// Shards merge into the report the whole run would have written; the same
// shard twice, or shards of two targets, do not merge.
func TestMerge(t *testing.T) {
	r := sampleReport(t)
	dir := t.TempDir()
	require.NoError(t, r.WriteAll(dir))
	part := func(from, to int) *Report {
		p, err := Load(dir)
		require.NoError(t, err)
		p.scenarios = p.scenarios[from:to]
		return p
	}
	n := len(r.Scenarios())
	merged, err := Merge([]string{"a", "b", "c"}, []*Report{part(0, 2), part(2, 5), part(5, n)})
	require.NoError(t, err)
	assert.Equal(t, r.Counts(), merged.Counts())
	assert.True(t, merged.Failed())
	var a, b bytes.Buffer
	require.NoError(t, r.junit(&a))
	require.NoError(t, merged.junit(&b))
	assert.Equal(t, a.String(), b.String())

	_, err = Merge([]string{"a", "b"}, []*Report{part(0, 3), part(2, n)})
	assert.ErrorContains(t, err, "is in both a and b")

	other := part(3, n)
	other.Target = "https://other.example.org"
	merged, err = Merge([]string{"a", "b"}, []*Report{part(0, 3), other})
	require.NoError(t, err)
	assert.Equal(t, "https://idp.example.org, https://other.example.org", merged.Target)

	stopped := part(3, n)
	stopped.interrupted = "SIGINT"
	merged, err = Merge([]string{"a", "b"}, []*Report{part(0, 3), stopped})
	require.NoError(t, err)
	assert.Equal(t, "b: SIGINT", merged.Interrupted())
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
