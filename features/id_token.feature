@needs:openid @needs:authorization_code @needs:client:web @needs:user:valid @needs:browser
Feature: ID token claims
  The ID token tells the client who logged in, for whom, and when. The
  client validates it as OpenID Connect Core §3.1.3.7 prescribes.

  Background:
    Given the web client
    And the user has authorized the client with scope "openid profile email"

  @OIDCC-3.1.3.7 @OIDCC-10.1 @oidf:oidcc-idtoken-signature
  Scenario: The ID token is signed with a key from the JWK Set
    Then the ID token is valid
    And the ID token header "alg" is not "none"
    And the ID token header "kid", when several keys are published, names a key of the JWK Set

  @OIDCC-2 @OIDCC-3.1.3.7
  Scenario: The ID token names the issuer and the client
    Then the ID token "iss" is the issuer URL
    And the ID token "aud" contains the client id
    And the ID token "azp", when present, is the client id

  @OIDCC-2
  Scenario: The ID token has a subject and its validity times
    Then the ID token has a string "sub"
    And the ID token has a number "exp"
    And the ID token has a number "iat"
    And the ID token "exp" is in the future
    And the ID token "iat" is not in the future

  @OIDCC-2 @OIDCC-3.1.3.7
  Scenario: The ID token carries the nonce of the request
    Then the ID token "nonce" is the nonce of the request

  @OIDCC-3.1.3.8 @OIDCC-3.1.3.6
  Scenario: at_hash, when present, matches the access token
    Then the ID token "at_hash", when present, matches the access token

  @IRIS-BeforeAuthenticate @needs:workshop
  Scenario: The workshop customisation puts the user's name in every ID token
    Then the ID token has a string "name"
