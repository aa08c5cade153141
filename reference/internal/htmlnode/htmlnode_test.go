package htmlnode

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

func TestFindByIDAttrText(t *testing.T) {
	doc, err := html.Parse(strings.NewReader(`<p id="a" class="x">Hello <b>world</b></p><p id="b"></p>`))
	require.NoError(t, err)
	a := ByID(doc, "a")
	require.NotNil(t, a)
	assert.Equal(t, "x", Attr(a, "class"))
	assert.Equal(t, "", Attr(a, "title"))
	assert.Equal(t, "Hello world", Text(a))
	assert.Equal(t, "", Text(ByID(doc, "b")))
	assert.Nil(t, ByID(doc, "missing"))
	assert.Equal(t, "", Text(nil))
}
