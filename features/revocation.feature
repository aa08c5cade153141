@needs:revocation
Feature: Token revocation (RFC 7009)
  A client tells the provider that it no longer needs a token.

  @needs:client:revoker @needs:client_credentials @RFC7009-2.2
  Scenario: Revoking an access token answers 200, or unsupported_token_type
    Given the revoking client
    And the client has a token from the client credentials grant
    When the client revokes the access token
    Then the token was revoked, or refused as a type the provider does not revoke

  @negative @needs:client:revoker @RFC7009-2.2
  Scenario: Revoking an unknown token answers 200
    Given the revoking client
    When the client revokes the token "oauthtrio-unknown-token"
    Then the response status is 200

  @negative @needs:authorization_code @needs:refresh_token @needs:offline_access @needs:client:web @needs:user:valid @needs:browser @RFC7009-2.1
  Scenario: A revoked refresh token can no longer be used
    Given the web client
    And the user has authorized the client with scope "openid offline_access"
    When the client revokes the refresh token
    Then the response status is 200
    When the client refreshes the tokens
    Then the response status is 400
    And the response error is "invalid_grant"

  # RFC 7009 §2.1: the server verifies that the token was issued to the
  # client; "if this validation fails, the request is refused and the
  # client is informed of the error".
  @negative @needs:client:introspected @needs:client:other @needs:client_credentials @needs:introspection @needs:client:introspector @RFC7009-2.1
  Scenario: A client cannot revoke another client's token
    Given the client whose token is introspected
    And the client has a token from the client credentials grant
    When the other client revokes the access token
    Then the request is refused with an error code of RFC 6749 section 5.2
    When the introspector introspects the access token
    Then the response "active" is true

  # RFC 7009 §2.1: the server first validates the client's credentials.
  @negative @needs:client:revoker @needs:client_credentials @RFC7009-2.1
  Scenario: Revocation without client authentication is refused
    Given the revoking client
    And the client has a token from the client credentials grant
    When the suite revokes the access token without authentication
    Then the request is refused with an error code of RFC 6749 section 5.2
