package triotest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// SignInClaims is SignIn followed by what a relying party does with the
// code: it runs the code flow with PKCE for app (its endpoints are taken
// from issuer's discovery document) as username, exchanges the code,
// verifies the ID token and calls UserInfo. It returns the ID token's
// claims and UserInfo's.
func SignInClaims(ctx context.Context, hc *http.Client, issuer string, app oauth2.Config, username, password string) (idToken, userinfo map[string]any, err error) {
	ctx = oidc.ClientContext(ctx, hc)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, nil, err
	}
	app.Endpoint = provider.Endpoint()
	verifier := oauth2.GenerateVerifier()
	const state = "triotest-state"
	callback, err := SignIn(ctx, hc, app.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), username, password)
	if err != nil {
		return nil, nil, err
	}
	q := callback.Query()
	if q.Get("state") != state {
		return nil, nil, fmt.Errorf("sign-in: state %q in %s", q.Get("state"), callback.Redacted())
	}
	if e := q.Get("error"); e != "" {
		return nil, nil, fmt.Errorf("sign-in: the authorization response is an error: %s: %s", e, q.Get("error_description"))
	}
	token, err := app.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, nil, err
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return nil, nil, errors.New("sign-in: the token response has no id_token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: app.ClientID}).Verify(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	if err := idt.Claims(&idToken); err != nil {
		return nil, nil, err
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil {
		return nil, nil, err
	}
	if err := info.Claims(&userinfo); err != nil {
		return nil, nil, err
	}
	return idToken, userinfo, nil
}
