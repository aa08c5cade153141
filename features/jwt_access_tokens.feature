@needs:authorization_code @needs:client:web @needs:user:valid @needs:browser
Feature: JWT access tokens (RFC 9068)
  When the provider issues its access tokens as JWTs, they follow the JWT
  profile for access tokens. Providers with opaque tokens are not concerned.

  Background:
    Given the web client
    And the user has authorized the client with scope "openid"
    And the access token is a JWT

  @RFC9068-2.1
  Scenario: The access token is typed at+jwt
    Then the access token header "typ" is "at+jwt" or "application/at+jwt"

  @RFC9068-2.1 @RFC9068-4
  Scenario: The access token is signed, never with alg none
    Then the access token header "alg" is not "none"
    And the access token signature verifies with a key of the JWK Set

  @RFC9068-2.2
  Scenario: The access token has every required claim
    Then the access token has the claims "iss", "exp", "aud", "sub", "client_id", "iat" and "jti"
    And the access token "iss" is the issuer URL
    And the access token "client_id" is the client id
