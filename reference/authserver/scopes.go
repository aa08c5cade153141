package authserver

import "sort"

// ScopeDescription is a scope as the consent page and discovery present it.
type ScopeDescription struct {
	Name        string
	Description string
}

// Scopes are the scopes the server knows, with the IRIS consent texts.
var Scopes = []ScopeDescription{
	{"openid", "OpenID Connect"},
	{"profile", "User default profile information"},
	{"email", "User email"},
	{"offline_access", "Offline Access"},
	{"my/scope", "My own scope"},
}

func scopeNames() []string {
	names := make([]string, len(Scopes))
	for i, s := range Scopes {
		names[i] = s.Name
	}
	return names
}

// describeScopes lists the requested scopes sorted by name, as IRIS does.
func describeScopes(requested []string) []ScopeDescription {
	out := make([]ScopeDescription, 0, len(requested))
	for _, name := range requested {
		d := ScopeDescription{Name: name, Description: name}
		for _, s := range Scopes {
			if s.Name == name {
				d = s
			}
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
