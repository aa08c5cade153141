@needs:client_credentials @needs:client:service
Feature: Client credentials (IRIS flow b)
  A confidential client acting on its own behalf gets a token with its
  credentials alone, as the IRIS workshop's Postman collection does.

  Background:
    Given the service client

  @RFC6749-4.4.2 @RFC6749-4.4.3 @RFC6749-5.1
  Scenario: The client obtains an access token with HTTP Basic authentication
    When the client requests a token with the client credentials grant
    Then the response status is 200
    And the response has a string "access_token"
    And the response "token_type" is "Bearer" ignoring case
    And the response header "Cache-Control" contains "no-store"

  @should @RFC6749-4.4.3
  Scenario: No refresh token is issued for the client credentials grant
    When the client requests a token with the client credentials grant
    Then the response status is 200
    And the response has no "refresh_token"

  @RFC6749-5.2 @RFC6749-2.3.1
  Scenario: A wrong client secret is refused with a Basic challenge
    When the client requests a token with the client credentials grant and a wrong secret
    Then the response status is 401
    And the response error is "invalid_client"
    And the response header "WWW-Authenticate" starts with "Basic"

  @RFC6749-5.2
  Scenario: An unknown grant type is refused as unsupported
    When the client sends a token request with grant_type "urn:oauthtrio:unknown-grant"
    Then the response status is 400
    And the response error is "unsupported_grant_type"

  @RFC6749-5.2 @RFC6749-3.3
  Scenario: An unknown scope is refused, or a differing granted scope is stated
    When the client requests a token with the client credentials grant for its scopes and "oauthtrio-no-such-scope"
    Then the token is refused with "invalid_scope", or a scope that differs from the requested one is stated

  @RFC6749-5.2
  Scenario: Token error responses are JSON with a valid error_description
    When the client sends a token request with grant_type "urn:oauthtrio:unknown-grant"
    Then the response is JSON
    And the response "error_description", when present, uses only the characters RFC 6749 allows
