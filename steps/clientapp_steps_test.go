package steps

import "testing"

func TestIsAuthorizationResponse(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://app.example/callback?code=abc&state=xyz":          true,
		"https://app.example/callback?error=access_denied&state=x": true,
		"https://app.example/callback#code=abc&state=xyz":          true,
		"https://app.example/callback?state=xyz":                   false,
		"https://app.example/callback":                             false,
		"https://app.example/application/":                         false,
		"https://app.example/callback?codes=1":                     false,
		"%zz":                                                      false,
	} {
		if got := isAuthorizationResponse(raw); got != want {
			t.Errorf("isAuthorizationResponse(%q) = %v, want %v", raw, got, want)
		}
	}
}
