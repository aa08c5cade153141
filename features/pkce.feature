@needs:authorization_code @needs:pkce_s256 @needs:client:public @needs:user:valid @needs:browser
Feature: PKCE with a public client
  A public client (IRIS: the Angular app) has no secret; the code verifier
  proves that the client redeeming the code is the one that asked for it.

  Background:
    Given the public client

  @RFC7636-4.5 @RFC7636-4.6 @oidf:oidcc-ensure-request-with-valid-pkce-succeeds
  Scenario: A code obtained with an S256 challenge is redeemed with its verifier
    When the client sends an authorization request with scope "openid"
    And the request uses PKCE with method "S256"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the response status is 200
    And the response has a string "access_token"

  @negative @RFC7636-4.6
  Scenario: A wrong verifier is refused
    When the client sends an authorization request with scope "openid"
    And the request uses PKCE with method "S256"
    And the user logs in and approves the request
    And the client exchanges the code with code_verifier "a-verifier-that-does-not-match-the-challenge-0123456789"
    Then the response status is 400
    And the response error is "invalid_grant"

  @negative @RFC7636-4.6 @RFC9700-2.1.1
  Scenario: A code obtained with a challenge is not redeemed without the verifier
    When the client sends an authorization request with scope "openid"
    And the request uses PKCE with method "S256"
    And the user logs in and approves the request
    And the client exchanges the code without the code_verifier
    Then the response status is 400
    And the response error is one of "invalid_grant", "invalid_request"

  @negative @RFC9700-2.1.1
  Scenario: A code_verifier is refused when the request had no challenge
    When the client sends an authorization request with scope "openid"
    And the request uses PKCE with method "S256"
    And the request has no "code_challenge"
    And the request has no "code_challenge_method"
    And the user logs in and approves the request
    And the client exchanges the code if it got one
    Then the authorization was refused or the token response has error one of "invalid_grant", "invalid_request"

  @should @negative @RFC7636-4.1
  Scenario: A verifier shorter than 43 characters is refused
    When the client sends an authorization request with scope "openid"
    And the request uses PKCE with method "S256" and the verifier "too-short-verifier"
    And the user logs in and approves the request
    And the client exchanges the code if it got one
    Then the authorization was refused or the token response has error one of "invalid_grant", "invalid_request"

  # A provider that accepts plain although discovery does not list it may
  # well support plain: its discovery document is then inaccurate (a
  # warning), and RFC 7636 §4.4.1 (refuse an unsupported method) does not
  # apply.
  @should @negative @RFC7636-4.4.1 @RFC8414-2
  Scenario: The plain method, which discovery does not list, is refused
    Given the provider does not list "plain" in "code_challenge_methods_supported"
    When the client sends an authorization request with scope "openid"
    And the request uses PKCE with method "plain"
    And the user logs in and approves the request
    Then the authorization response has error "invalid_request"

  @should @negative @RFC9700-2.1.1
  Scenario: A public client without PKCE is refused
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the client exchanges the code if it got one
    Then the authorization was refused or the token response has error one of "invalid_request", "invalid_grant"

  @negative @needs:refresh_token @needs:offline_access @RFC9700-4.14.2 @RFC6749-10.4
  Scenario: A public client's refresh token is rotated and the previous one refused
    When the client sends an authorization request with scope "openid offline_access"
    And the request uses PKCE with method "S256"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the response status is 200
    When the client refreshes the tokens
    Then the response status is 200
    And the provider rotated the refresh token
    When the client refreshes with the previous refresh token
    Then the response status is 400
    And the response error is "invalid_grant"

  # RFC 7636 §4.4.1: a server that requires PKCE of a public client
  # refuses a request without a challenge by redirecting invalid_request.
  # Whether it requires PKCE is its policy (RFC 9700 §2.1.1 only
  # recommends it), so a code is no failure here.
  @negative @RFC7636-4.4.1
  Scenario: A public client's request without a challenge is refused, if at all, with invalid_request
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    Then the authorization response has a code or error "invalid_request"
