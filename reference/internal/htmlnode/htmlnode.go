// Package htmlnode finds elements in a parsed HTML page, for the tests
// that read the reference's pages without a browser.
package htmlnode

import (
	"strings"

	"golang.org/x/net/html"
)

// Find returns the first node, depth first, for which found is true.
func Find(n *html.Node, found func(*html.Node) bool) *html.Node {
	if found(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if m := Find(c, found); m != nil {
			return m
		}
	}
	return nil
}

// ByID returns the element with the id, or nil.
func ByID(doc *html.Node, id string) *html.Node {
	return Find(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && Attr(n, "id") == id })
}

// Attr returns the value of an attribute, "" when absent.
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// Text is the text below n; "" for nil.
func Text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	Find(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		return false
	})
	return b.String()
}
