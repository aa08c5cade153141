package triotest_test

import (
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/oauthtrio/oauthtrio/reference/triotest"
)

// A client signs alice in against the test issuer and reads her custom
// claim "groups" from the ID token.
func TestSignInExample(t *testing.T) {
	srv := triotest.NewServer(t,
		triotest.WithUser(triotest.User{
			Username: "alice", Password: "wonderland",
			Claims: map[string]any{"groups": []string{"admins"}},
		}),
		triotest.WithClient(triotest.Client{
			ID: "my-app", Secret: "my-secret",
			RedirectURIs: []string{"https://my-app.example/callback"},
		}),
	)
	ctx := oidc.ClientContext(t.Context(), srv.Client())
	provider, err := oidc.NewProvider(ctx, srv.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	app := oauth2.Config{
		ClientID: "my-app", ClientSecret: "my-secret", Endpoint: provider.Endpoint(),
		RedirectURL: "https://my-app.example/callback", Scopes: []string{oidc.ScopeOpenID, "profile"},
	}
	verifier := oauth2.GenerateVerifier()
	callback, err := srv.SignIn(app.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)), "alice", "wonderland")
	if err != nil {
		t.Fatal(err)
	}
	token, err := app.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	rawIDToken, _ := token.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: "my-app"}).Verify(ctx, rawIDToken)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Groups []string `json:"groups"`
	}
	if err := idToken.Claims(&claims); err != nil || len(claims.Groups) != 1 || claims.Groups[0] != "admins" {
		t.Fatalf("groups = %v (%v), want [admins]", claims.Groups, err)
	}
}
