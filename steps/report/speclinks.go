package report

import (
	"regexp"
	"strings"
)

// openIDSpecs maps the tag prefixes of OpenID specifications to their pages.
var openIDSpecs = map[string]string{
	"OIDCC":     "https://openid.net/specs/openid-connect-core-1_0.html",
	"OIDCD":     "https://openid.net/specs/openid-connect-discovery-1_0.html",
	"OIDCR":     "https://openid.net/specs/openid-connect-registration-1_0.html",
	"OIDCRPI":   "https://openid.net/specs/openid-connect-rpinitiated-1_0.html",
	"OIDCRPL":   "https://openid.net/specs/openid-connect-rpinitiated-1_0.html",
	"OIDCFCL":   "https://openid.net/specs/openid-connect-frontchannel-1_0.html",
	"OIDCBCL":   "https://openid.net/specs/openid-connect-backchannel-1_0.html",
	"OAuth2-FP": "https://openid.net/specs/oauth-v2-form-post-response-mode-1_0.html",
}

// oidcCoreAnchors names the sections of OpenID Connect Core cited most,
// whose named anchors survive renumbering; other sections use the generated
// rfc.section anchors.
var oidcCoreAnchors = map[string]string{
	"2":       "IDToken",
	"3.1":     "CodeFlowAuth",
	"3.1.2.1": "AuthRequest",
	"3.1.2.2": "AuthRequestValidation",
	"3.1.2.5": "AuthResponse",
	"3.1.2.6": "AuthError",
	"3.1.2.7": "AuthResponseValidation",
	"3.1.3.3": "TokenResponse",
	"3.1.3.7": "IDTokenValidation",
	"5.1":     "StandardClaims",
	"5.3":     "UserInfo",
	"5.4":     "ScopeClaims",
	"11":      "OfflineAccess",
	"12":      "RefreshTokens",
}

// rfcAliases are tag prefixes that name an RFC by its short title.
var rfcAliases = map[string]string{
	"OAuth2-iss": "9207",
	"PKCE":       "7636",
	// BCP 195 is RFC 9325 today (RFC 8996 updates it and has its own tags).
	"BCP195": "9325",
}

var (
	rfcTag    = regexp.MustCompile(`^RFC(\d{3,5})(?:-([A-Z]?[0-9.]*[0-9]))?$`)
	openIDTag = regexp.MustCompile(`^(OIDCC|OIDCD|OIDCR|OIDCRPI|OIDCRPL|OIDCFCL|OIDCBCL|OAuth2-FP|OAuth2-iss|PKCE|BCP195)-([A-Z]?[0-9.]*[0-9])$`)
)

// SpecURL returns the link for a spec tag such as @RFC6749-4.1.2 or
// @OIDCC-3.1.3.7, and false for other tags.
func SpecURL(tag string) (string, bool) {
	t := strings.TrimPrefix(tag, "@")
	if m := rfcTag.FindStringSubmatch(t); m != nil {
		return rfcURL(m[1], m[2]), true
	}
	m := openIDTag.FindStringSubmatch(t)
	if m == nil {
		return "", false
	}
	prefix, section := m[1], m[2]
	if num, ok := rfcAliases[prefix]; ok {
		return rfcURL(num, section), true
	}
	base := openIDSpecs[prefix]
	if prefix == "OIDCC" {
		if a, ok := oidcCoreAnchors[section]; ok {
			return base + "#" + a, true
		}
	}
	return base + "#rfc.section." + section, true
}

func rfcURL(num, section string) string {
	u := "https://www.rfc-editor.org/rfc/rfc" + num
	switch {
	case section == "":
		return u
	case section[0] >= 'A' && section[0] <= 'Z':
		return u + "#appendix-" + section
	}
	return u + "#section-" + section
}
