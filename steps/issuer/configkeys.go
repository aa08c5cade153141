package issuer

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

// configKeys checks the keys of a configuration's node tree against the
// yaml tags of t, and records the path of every node by line, so that
// decoding errors can be told in the configuration's own words. It returns
// one message per unknown key, with the nearest known key when one is close.
func configKeys(n *yaml.Node, t reflect.Type, path string, lines map[int]string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode {
		var errs []string
		for _, c := range n.Content {
			errs = append(errs, configKeys(c, t, path, lines)...)
		}
		return errs
	}
	if path != "" {
		if _, seen := lines[n.Line]; !seen {
			lines[n.Line] = path
		}
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	var errs []string
	switch t.Kind() {
	case reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			lines[k.Line] = join(path, k.Value)
			errs = append(errs, configKeys(n.Content[i+1], t.Elem(), join(path, k.Value), lines)...)
		}
	case reflect.Struct:
		if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := join(path, k.Value)
			lines[k.Line] = p
			ft, ok := fields[k.Value]
			if !ok {
				msg := fmt.Sprintf("%s: unknown key (line %d)", p, k.Line)
				if s := nearestKey(k.Value, fields); s != "" {
					msg += fmt.Sprintf("; did you mean %s?", join(path, s))
				}
				errs = append(errs, msg)
				continue
			}
			errs = append(errs, configKeys(n.Content[i+1], ft, p, lines)...)
		}
	}
	return errs
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// nearestKey is the known key closest to key, when close enough to be a
// slip: two edits, or a third of its letters, at most.
func nearestKey(key string, known map[string]reflect.Type) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", -1
	for _, k := range names {
		if d := levenshtein.ComputeDistance(key, k); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(2, len(key)/3) {
		return ""
	}
	return best
}

var (
	yamlTags    = strings.NewReplacer("!!str ", "", "!!int ", "", "!!bool ", "", "!!float ", "", "!!seq", "a list", "!!map", "a mapping")
	typeErrLine = regexp.MustCompile(`^line (\d+): (.*)$`)
	intoGoType  = regexp.MustCompile(` into ([][*\w.]+)$`)
)

// friendlyTypeError rewrites yaml's "line 7: cannot unmarshal !!str `x`
// into time.Duration" as "timeouts.http: cannot read `x` as a duration
// (10s, 2m)", naming the key instead of a Go type.
func friendlyTypeError(err error, lines map[int]string) error {
	te, ok := err.(*yaml.TypeError)
	if !ok {
		return err
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := typeErrLine.FindStringSubmatch(e)
		if m == nil {
			msgs = append(msgs, e)
			continue
		}
		var line int
		fmt.Sscan(m[1], &line)
		text := m[2]
		if g := intoGoType.FindStringSubmatch(text); g != nil {
			text = strings.TrimSuffix(text, g[0]) + " as " + goTypeWords(g[1])
		}
		text = strings.Replace(text, "cannot unmarshal ", "cannot read ", 1)
		text = yamlTags.Replace(text)
		where := fmt.Sprintf("line %d", line)
		if p, ok := lines[line]; ok {
			where = fmt.Sprintf("%s (line %d)", p, line)
		}
		msgs = append(msgs, where+": "+strings.TrimSpace(text))
	}
	return fmt.Errorf("%s", strings.Join(msgs, "\n"))
}

// goTypeWords says a Go type as a configuration's reader would.
func goTypeWords(t string) string {
	switch strings.TrimPrefix(t, "*") {
	case reflect.TypeFor[time.Duration]().String():
		return "a duration (10s, 2m)"
	case "bool":
		return "true or false"
	case "string":
		return "text"
	case "int", "int64":
		return "a whole number"
	}
	if strings.HasPrefix(t, "[]") {
		return "a list"
	}
	if strings.HasPrefix(t, "map[") || strings.Contains(t, ".") {
		return "a mapping of keys"
	}
	return t
}
