package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/cucumber/godog"

	"github.com/oauthtrio/oauthtrio/steps/browser"
	"github.com/oauthtrio/oauthtrio/steps/issuer"
	"github.com/oauthtrio/oauthtrio/steps/report"
)

// scenario is one scenario's state. godog builds a fresh one per scenario
// on the scenario's goroutine, so concurrent scenarios share nothing but
// the run.
type scenario struct {
	run *run
	ctx context.Context
	rec *report.Scenario

	role   issuer.Role
	client *issuer.Client

	// The authorization request being built or sent.
	auth *authRequest
	// The authorization response caught at the redirect URI.
	callback url.Values
	// What the browser went through.
	flow *browser.AuthorizeResult

	browser       *browser.Session
	closeBrowser  context.CancelFunc
	resp          *response
	tokens        *tokenSet // the latest tokens
	first         *tokenSet // the tokens of the first exchange
	previous      *tokenSet // the tokens before the latest refresh
	registered    *issuer.Client
	lastAuthState string
	tls           *tlsOutcome
	logoutURI     string // the post_logout_redirect_uri of the logout request
}

// authRequest is an authorization request under construction.
type authRequest struct {
	params   url.Values
	verifier string
	post     bool
	// expectAt, when set, is where the response must arrive instead of
	// the redirect_uri parameter.
	expectAt string
}

func (r *run) initializeScenario(sc *godog.ScenarioContext) {
	r.rep.Attach(sc)
	s := &scenario{run: r}
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		s.ctx = ctx
		s.rec = report.FromContext(ctx)
		return ctx, nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if err != nil && s.browser != nil && s.rec != nil {
			if png, shotErr := s.browser.Screenshot(); shotErr == nil {
				s.rec.AddScreenshot("the browser when the scenario failed", png)
			}
			if s.run.artifacts != "" {
				if shot, html, saveErr := s.browser.SaveArtifacts(s.rec.Record().Name); saveErr == nil {
					s.rec.Note("artifacts: %s, %s", shot, html)
				}
			}
		}
		if s.closeBrowser != nil {
			s.closeBrowser()
		}
		r.progress.scenarioDone(err)
		return ctx, nil
	})
	s.registerSteps(sc)
}

// register binds every step phrase of the features to its method.
func (s *scenario) registerSteps(sc *godog.ScenarioContext) {
	s.registerTLSSteps(sc)
	s.registerLogoutSteps(sc)
	// Clients and preconditions.
	sc.Step(`^the (web|public|service|introspector|other) client$`, s.theClient)
	sc.Step(`^the provider does not list "([^"]*)" in "([^"]*)"$`, s.providerDoesNotList)

	// Discovery and JWKS.
	sc.Step(`^the suite fetches the discovery document$`, s.fetchDiscovery)
	sc.Step(`^the suite fetches the RFC 8414 authorization server metadata$`, s.fetchRFC8414)
	sc.Step(`^the suite fetches the JWK Set$`, s.fetchJWKS)
	sc.Step(`^the discovery "([^"]*)" is exactly the issuer URL$`, s.discoveryIssuerIsExact)
	sc.Step(`^the discovery document has the members:$`, s.discoveryHasMembers)
	sc.Step(`^the discovery list "([^"]*)" contains "([^"]*)"$`, s.discoveryListContains)
	sc.Step(`^the discovery list "([^"]*)", when present, contains "([^"]*)"$`, s.discoveryListContainsWhenPresent)
	sc.Step(`^every endpoint in the discovery document uses https$`, s.endpointsUseHTTPS)
	sc.Step(`^the JWK Set has at least one signing key$`, s.jwksHasSigningKey)
	sc.Step(`^the JWK Set has no private or symmetric key material$`, s.jwksHasNoPrivateKeys)
	sc.Step(`^the keys of the JWK Set have distinct "kid" values$`, s.jwksDistinctKids)

	// Authorization requests and the browser.
	sc.Step(`^the client sends an authorization request with scope "([^"]*)"$`, s.newAuthorizationRequest)
	sc.Step(`^the request has "([^"]*)" set to "([^"]*)"$`, s.requestSet)
	sc.Step(`^the request has no "([^"]*)"$`, s.requestUnset)
	sc.Step(`^the request uses PKCE with method "(S256|plain)"$`, s.requestUsesPKCE)
	sc.Step(`^the request is sent as a form POST$`, s.requestAsPost)
	sc.Step(`^the request's redirect_uri is changed by "([^"]*)"$`, s.requestRedirectChanged)
	sc.Step(`^the user logs in and approves the request$`, s.userApproves)
	sc.Step(`^the user logs in and denies the request$`, s.userDenies)
	sc.Step(`^the user continues in the same browser$`, s.userContinues)
	sc.Step(`^the invalid user tries to log in$`, s.invalidUserLogsIn)
	sc.Step(`^the browser opens the authorization request$`, s.browserOpensRequest)
	sc.Step(`^the user has authorized the client with scope "([^"]*)"$`, s.userHasAuthorized)
	sc.Step(`^the authorization response has a "([^"]*)"$`, s.callbackHas)
	sc.Step(`^the authorization response has no "([^"]*)"$`, s.callbackHasNo)
	sc.Step(`^the authorization response echoes the state exactly$`, s.callbackEchoesState)
	sc.Step(`^the authorization response "iss" is the issuer URL$`, s.callbackIssIsIssuer)
	sc.Step(`^the authorization response has error "([^"]*)"$`, s.callbackError)
	sc.Step(`^the authorization response has error one of (.+)$`, s.callbackErrorOneOf)
	sc.Step(`^the authorization fails with one of (.+) or an error page$`, s.authorizationFailsWith)
	sc.Step(`^the browser shows an error and is not redirected$`, s.browserShowsError)
	sc.Step(`^the login page shows an error$`, s.loginPageShowsError)
	sc.Step(`^the browser was not redirected to the client$`, s.notRedirected)
	sc.Step(`^the login page was (shown|not shown)$`, s.loginPageWas)

	// Token endpoint.
	sc.Step(`^the client exchanges the code$`, s.exchangeCode)
	sc.Step(`^the client exchanges the same code again$`, s.exchangeCodeAgain)
	sc.Step(`^the client exchanges the code with redirect_uri "([^"]*)"$`, s.exchangeCodeWithRedirect)
	sc.Step(`^the client exchanges the code with code_verifier "([^"]*)"$`, s.exchangeCodeWithVerifier)
	sc.Step(`^the client exchanges the code without the code_verifier$`, s.exchangeCodeWithoutVerifier)
	sc.Step(`^the other client exchanges the code$`, s.otherClientExchangesCode)
	sc.Step(`^the client requests a token with the client credentials grant$`, s.clientCredentials)
	sc.Step(`^the client requests a token with the client credentials grant and a wrong secret$`, s.clientCredentialsWrongSecret)
	sc.Step(`^the client requests a token with the client credentials grant and scope "([^"]*)"$`, s.clientCredentialsScope)
	sc.Step(`^the client has a token from the client credentials grant$`, s.hasClientCredentialsToken)
	sc.Step(`^the client sends a token request with grant_type "([^"]*)"$`, s.tokenRequestWithGrant)
	sc.Step(`^the client refreshes the tokens$`, s.refresh)
	sc.Step(`^the client refreshes the tokens asking for scope "([^"]*)"$`, s.refreshWithScope)
	sc.Step(`^the client refreshes with the previous refresh token$`, s.refreshWithPrevious)
	sc.Step(`^the other client refreshes with the refresh token$`, s.otherClientRefreshes)
	sc.Step(`^the provider rotated the refresh token$`, s.providerRotated)
	sc.Step(`^the new access token differs from the previous one$`, s.newAccessTokenDiffers)
	sc.Step(`^the token is refused or its scope stays within "([^"]*)"$`, s.scopeStaysWithin)
	sc.Step(`^the token is refused with "invalid_scope" or its stated scope leaves out "([^"]*)"$`, s.scopeRefusedOrLeftOut)
	sc.Step(`^a refreshed ID token, when present, has the same "iss", "sub" and "aud" as the first one$`, s.refreshedIDTokenConsistent)
	sc.Step(`^the access token from the first exchange is no longer accepted by userinfo$`, s.firstAccessTokenRevoked)

	// ID tokens and access tokens.
	sc.Step(`^the ID token is valid$`, s.idTokenValid)
	sc.Step(`^the ID token header "([^"]*)" is not "([^"]*)"$`, s.idTokenHeaderIsNot)
	sc.Step(`^the ID token header "kid", when several keys are published, names a key of the JWK Set$`, s.idTokenKidKnown)
	sc.Step(`^the ID token "([^"]*)" is the issuer URL$`, s.idTokenClaimIsIssuer)
	sc.Step(`^the ID token "aud" contains the client id$`, s.idTokenAudHasClient)
	sc.Step(`^the ID token "azp", when present, is the client id$`, s.idTokenAzp)
	sc.Step(`^the ID token has a string "([^"]*)"$`, s.idTokenHasString)
	sc.Step(`^the ID token has a number "([^"]*)"$`, s.idTokenHasNumber)
	sc.Step(`^the ID token "([^"]*)" is in the future$`, s.idTokenTimeInFuture)
	sc.Step(`^the ID token "([^"]*)" is not in the future$`, s.idTokenTimeNotInFuture)
	sc.Step(`^the ID token "nonce" is the nonce of the request$`, s.idTokenNonce)
	sc.Step(`^the ID token "at_hash", when present, matches the access token$`, s.idTokenAtHash)
	sc.Step(`^the ID token "sub" is the same as in the first ID token$`, s.idTokenSubSameAsFirst)
	sc.Step(`^the access token is a JWT$`, s.accessTokenIsJWT)
	sc.Step(`^the access token header "typ" is "at\+jwt" or "application/at\+jwt"$`, s.accessTokenTyp)
	sc.Step(`^the access token header "alg" is not "none"$`, s.accessTokenAlgNotNone)
	sc.Step(`^the access token signature verifies with a key of the JWK Set$`, s.accessTokenSignature)
	sc.Step(`^the access token has the claims (.+)$`, s.accessTokenHasClaims)
	sc.Step(`^the access token "iss" is the issuer URL$`, s.accessTokenIss)
	sc.Step(`^the access token "client_id" is the client id$`, s.accessTokenClientID)

	// UserInfo, introspection, revocation.
	sc.Step(`^the client calls userinfo with (GET|POST) and the access token in the (header|body)$`, s.callUserinfo)
	sc.Step(`^the suite calls userinfo without a token$`, s.userinfoWithoutToken)
	sc.Step(`^the suite calls userinfo with the token "([^"]*)"$`, s.userinfoWithToken)
	sc.Step(`^the response "([^"]*)" is the ID token's "([^"]*)"$`, s.responseClaimIsIDTokenClaim)
	sc.Step(`^the response has the claims of the valid user for scope "([^"]*)"$`, s.responseHasUserClaims)
	sc.Step(`^the introspector introspects the access token$`, s.introspectAccessToken)
	sc.Step(`^the introspector introspects the token "([^"]*)"$`, s.introspectToken)
	sc.Step(`^the suite introspects the token "([^"]*)" without authentication$`, s.introspectUnauthenticated)
	sc.Step(`^the client revokes the (access|refresh) token$`, s.revokeOwnToken)
	sc.Step(`^the client revokes the token "([^"]*)"$`, s.revokeToken)
	sc.Step(`^the other client revokes the access token$`, s.otherClientRevokes)

	// Resource server.
	sc.Step(`^the resource server is called with the access token$`, s.callResourceWithToken)
	sc.Step(`^the resource server is called without a token$`, s.callResourceWithoutToken)
	sc.Step(`^the resource server is called with "([^"]*)"$`, s.callResourceWithForgedToken)
	sc.Step(`^the resource server is called with the access token altered in its signature$`, s.callResourceWithTamperedToken)
	sc.Step(`^the WWW-Authenticate challenge has error "([^"]*)"$`, s.challengeHasError)
	sc.Step(`^the WWW-Authenticate challenge has no error$`, s.challengeHasNoError)

	// The reference client application.
	sc.Step(`^the browser opens the client application$`, s.openClientApp)
	sc.Step(`^the page says "([^"]*)"$`, s.pageSays)
	sc.Step(`^the user clicks "([^"]*)"$`, s.userClicks)
	sc.Step(`^the user logs in and approves in the browser$`, s.userLogsInInBrowser)
	sc.Step(`^the page element "([^"]*)" says "([^"]*)"$`, s.pageElementSays)
	sc.Step(`^the page element "([^"]*)" is not empty$`, s.pageElementNotEmpty)

	// Registration.
	sc.Step(`^the suite registers a client with redirect URI "([^"]*)"$`, s.registerClient)
	sc.Step(`^the suite registers a client for the client credentials grant$`, s.registerServiceClient)
	sc.Step(`^the registered client requests a token with the client credentials grant$`, s.registeredClientCredentials)

	// Waits and less common request shapes.
	sc.Step(`^the suite waits (\d+) seconds?$`, s.waitSeconds)
	sc.Step(`^the suite waits the configured code reuse delay$`, s.waitCodeReuse)
	sc.Step(`^the suite waits until the code has expired$`, s.waitCodeExpiry)
	sc.Step(`^the request has a state of (\d+) characters$`, s.requestLongState)
	sc.Step(`^the request has a nonce of (\d+) characters$`, s.requestLongNonce)
	sc.Step(`^the request uses PKCE with method "(S256)" and the verifier "([^"]*)"$`, s.requestPKCEWithVerifier)
	sc.Step(`^the request carries its parameters in an unsigned request object$`, s.requestByValue)
	sc.Step(`^the request carries its parameters by reference in a request_uri$`, s.requestByReference)
	sc.Step(`^the authorization response has a code or error "([^"]*)"$`, s.callbackCodeOrError)
	sc.Step(`^the ID token "([^"]*)" is later than in the first ID token$`, s.idTokenLaterThanFirst)
	sc.Step(`^the request has the first ID token as "([^"]*)"$`, s.requestFirstIDTokenAs)
	sc.Step(`^the consent page was shown, or the authorization response has an error$`, s.consentShownOrError)
	sc.Step(`^the client exchanges the code if it got one$`, s.exchangeCodeIfAny)
	sc.Step(`^the authorization was refused or the token response has error one of (.+)$`, s.refusedSomewhere)
	sc.Step(`^the response has a "([^"]*)"$`, s.responseHasMember)
	sc.Step(`^the request asks for the essential userinfo claim "([^"]*)"$`, s.requestEssentialUserinfoClaim)
	sc.Step(`^the suite registers a copy of the client with token_endpoint_auth_method "([^"]*)"$`, s.registerCopyWithAuthMethod)
	sc.Step(`^the suite registers a copy of the client with "([^"]*)" set to "([^"]*)"$`, s.registerCopy)
	sc.Step(`^the suite fetches the authorization request's page without a browser$`, s.fetchAuthorizationPage)
	sc.Step(`^the page forbids framing with X-Frame-Options or a CSP frame-ancestors directive$`, s.pageForbidsFraming)
	sc.Step(`^the ID token header "([^"]*)" is "([^"]*)"$`, s.idTokenHeaderIs)
	sc.Step(`^the response is expected at the registered redirect URI$`, s.expectAtRegisteredURI)
	sc.Step(`^the authorization response has a "code", or the browser shows an error$`, s.codeOrErrorPage)

	// Generic assertions on the last HTTP response.
	sc.Step(`^the response status is (\d+)$`, s.statusIs)
	sc.Step(`^the response status is one of (.+)$`, s.statusIsOneOf)
	sc.Step(`^the response is JSON$`, s.responseIsJSON)
	sc.Step(`^the response has a string "([^"]*)"$`, s.responseHasString)
	sc.Step(`^the response has a positive number "([^"]*)"$`, s.responseHasPositiveNumber)
	sc.Step(`^the response has no "([^"]*)"$`, s.responseHasNo)
	sc.Step(`^the response "([^"]*)" is "([^"]*)" ignoring case$`, s.responseMemberFold)
	sc.Step(`^the response "([^"]*)" is (true|false)$`, s.responseMemberBool)
	sc.Step(`^the response "([^"]*)", when present, is the client id$`, s.responseMemberIsClientID)
	sc.Step(`^the response "([^"]*)" contains "([^"]*)"$`, s.responseListContains)
	sc.Step(`^the response "error_description", when present, uses only the characters RFC 6749 allows$`, s.errorDescriptionCharset)
	sc.Step(`^the response error is "([^"]*)"$`, s.responseError)
	sc.Step(`^the response error is one of (.+)$`, s.responseErrorOneOf)
	sc.Step(`^the response header "([^"]*)" contains "([^"]*)"$`, s.headerContains)
	sc.Step(`^the response header "([^"]*)" starts with "([^"]*)"$`, s.headerStartsWith)
}

// notApplicable ends a scenario whose premise the target does not meet.
func (s *scenario) notApplicable(format string, args ...any) error {
	return report.NotApplicable(s.ctx, fmt.Sprintf(format, args...))
}

func (s *scenario) theClient(role string) error {
	c, ok := s.run.cfg.Client(issuer.Role(role))
	if !ok {
		return s.notApplicable("no %s client is configured for this target", role)
	}
	s.role, s.client = issuer.Role(role), c
	return nil
}

func (s *scenario) clientFor(role issuer.Role) (*issuer.Client, error) {
	c, ok := s.run.cfg.Client(role)
	if !ok {
		return nil, s.notApplicable("no %s client is configured for this target", role)
	}
	return c, nil
}

func (s *scenario) needClient() error {
	if s.client == nil {
		return errors.New("the scenario has not chosen a client (a step like \"Given the web client\" is missing)")
	}
	return nil
}
