@needs:client_credentials
Feature: Client credentials (IRIS flow b)
  A confidential client acting on its own behalf gets a token with its
  credentials alone, as the IRIS workshop's Postman collection does.

  @RFC6749-4.4.2 @RFC6749-4.4.3 @RFC6749-5.1 @needs:client:service
  Scenario: The client obtains an access token with HTTP Basic authentication
    Given the service client
    When the client requests a token with the client credentials grant
    Then the response status is 200
    And the response has a string "access_token"
    And the response "token_type" is "Bearer" ignoring case
    And the response header "Cache-Control" contains "no-store"

  @should @RFC6749-4.4.3 @needs:client:service
  Scenario: No refresh token is issued for the client credentials grant
    Given the service client
    When the client requests a token with the client credentials grant
    Then the response status is 200
    And the response has no "refresh_token"

  @negative @RFC6749-5.2 @RFC6749-2.3.1 @RFC6749-4.4.2 @needs:client:service
  Scenario: A wrong client secret is refused with a Basic challenge
    Given the service client
    When the client requests a token with the client credentials grant and a wrong secret
    Then the response status is 401
    And the response error is "invalid_client"
    And the response header "WWW-Authenticate" starts with "Basic"

  @negative @RFC6749-5.2 @needs:client:service
  Scenario: An unknown grant type is refused as unsupported
    Given the service client
    When the client sends a token request with grant_type "urn:oauthtrio:unknown-grant"
    Then the response status is 400
    And the response error is "unsupported_grant_type"

  @negative @RFC6749-5.2 @RFC6749-3.3 @needs:client:service
  Scenario: An unknown scope is refused, or a differing granted scope is stated
    Given the service client
    When the client requests a token with the client credentials grant for its scopes and "oauthtrio-no-such-scope"
    Then the token is refused with "invalid_scope", or a scope that differs from the requested one is stated

  @RFC6749-5.2 @needs:client:service
  Scenario: Token error responses are JSON with a valid error_description
    Given the service client
    When the client sends a token request with grant_type "urn:oauthtrio:unknown-grant"
    Then the response is JSON
    And the response "error_description", when present, uses only the characters RFC 6749 allows

  # RFC 6749 §3.2.1 and §4.4.2: a confidential client authenticates at the
  # token endpoint; its client_id alone proves nothing.
  @negative @RFC6749-3.2 @RFC6749-4.4.2 @needs:client:service
  Scenario: A token request without client authentication is refused
    Given the service client
    When the client requests a token with the client credentials grant, naming itself without authenticating
    Then the request is refused with an error code of RFC 6749 section 5.2

  # RFC 6749 §2.3.1: client credentials never go in the request URI.
  @negative @RFC6749-2.3.1 @needs:client:service
  Scenario: Client credentials in the request URI are refused
    Given the service client
    When the client requests a token with the client credentials grant, its credentials in the request URI
    Then the request is refused with an error code of RFC 6749 section 5.2

  # RFC 6749 §4.4: the client credentials grant is for confidential
  # clients only.
  @negative @RFC6749-4.4 @needs:client:public
  Scenario: A public client cannot use the client credentials grant
    Given the public client
    When the client requests a token with the client credentials grant
    Then the request is refused with an error code of RFC 6749 section 5.2

  # RFC 9700 §2.4: the resource owner password credentials grant must not
  # be used; a provider that still issues tokens for it invites its use.
  @negative @RFC9700-2.4 @needs:client:service @needs:user:valid
  Scenario: The resource owner password credentials grant is refused
    Given the service client
    When the client requests a token with the password grant and the valid user's credentials
    Then the request is refused with an error code of RFC 6749 section 5.2
