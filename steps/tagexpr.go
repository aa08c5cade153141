package steps

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// tagExpression is a scenario selection by tags, in godog's grammar: terms
// joined by "&&" (and) form a branch, branches joined by "," (or) form the
// expression, and "~" before a tag negates it. There are no parentheses.
// For people used to cucumber's tag expressions, "||", "or", "and" and
// "not" are read as ",", ",", "&&" and "~".
type tagExpression [][]tagTerm

type tagTerm struct {
	tag    string // with its "@"
	negate bool
}

var (
	wordOr  = regexp.MustCompile(`(?i)\s+or\s+`)
	wordAnd = regexp.MustCompile(`(?i)\s+and\s+`)
	wordNot = regexp.MustCompile(`(?i)(^|[\s,&])not\s+`)
	tagName = regexp.MustCompile(`^@?[^\s,&~@()]+$`)
)

// parseTagExpression checks an expression and returns it with its godog
// form. godog itself panics on some malformed expressions ("@a &&") and
// silently matches nothing on others ("(@a)"), so every mistake is caught
// here, with what was expected.
func parseTagExpression(expr string) (tagExpression, string, error) {
	s := strings.TrimSpace(expr)
	if s == "" {
		return nil, "", nil
	}
	if strings.ContainsAny(s, "()") {
		return nil, "", fmt.Errorf("tag expression %q: parentheses are not supported; use \",\" (or) of \"&&\" (and) branches, e.g. \"@a && @b, @c\"", expr)
	}
	s = strings.ReplaceAll(s, "||", ",")
	s = wordOr.ReplaceAllString(s, ",")
	s = wordAnd.ReplaceAllString(s, "&&")
	s = wordNot.ReplaceAllString(s, "$1~")
	var out tagExpression
	var branches []string
	for _, branch := range strings.Split(s, ",") {
		var terms []tagTerm
		var godogTerms []string
		for _, raw := range strings.Split(branch, "&&") {
			term := strings.TrimSpace(raw)
			negate := strings.HasPrefix(term, "~")
			name := strings.TrimSpace(strings.TrimPrefix(term, "~"))
			if name == "" || !tagName.MatchString(name) {
				return nil, "", fmt.Errorf("tag expression %q: %q is not a tag (want @name, ~@name or not @name, joined by && or ,)", expr, term)
			}
			if !strings.HasPrefix(name, "@") {
				name = "@" + name
			}
			terms = append(terms, tagTerm{tag: name, negate: negate})
			if negate {
				godogTerms = append(godogTerms, "~"+name)
			} else {
				godogTerms = append(godogTerms, name)
			}
		}
		out = append(out, terms)
		branches = append(branches, strings.Join(godogTerms, " && "))
	}
	return out, strings.Join(branches, ","), nil
}

// matches reports whether a scenario with tags (each with its "@") is
// selected; an empty expression selects everything.
func (e tagExpression) matches(tags []string) bool {
	if len(e) == 0 {
		return true
	}
	for _, branch := range e {
		ok := true
		for _, t := range branch {
			if slices.Contains(tags, t.tag) == t.negate {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
