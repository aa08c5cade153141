@needs:introspection @needs:client:introspector
Feature: Token introspection (RFC 7662)
  A resource server asks the provider whether a token is active. A
  provider may answer "active": false to a caller that may not see a token
  (RFC 7662 §2.2), so the token asked about is one of a client the
  introspector may see (assign.introspected in the target configuration).

  @needs:client:introspected @needs:client_credentials @RFC7662-2.2
  Scenario: An active token is reported active with its scope and client
    Given the client whose token is introspected
    And the client has a token from the client credentials grant
    When the introspector introspects the access token
    Then the response status is 200
    And the response "active" is true
    And the response "client_id", when present, is the client id

  @negative @RFC7662-2.1 @RFC7662-2.3
  Scenario: Introspection requires the caller to authenticate
    When the suite introspects the token "anything" without authentication
    Then the response status is one of 400, 401, 403

  @negative @RFC7662-2.2
  Scenario: An unknown token is inactive
    When the introspector introspects the token "oauthtrio-not-a-token"
    Then the response status is 200
    And the response "active" is false

  # RFC 7009 §2: revoking access tokens is a SHOULD.
  @should @negative @needs:revocation @needs:client:introspected @needs:client_credentials @RFC7662-2.2 @RFC7009-2
  Scenario: A revoked token is inactive
    Given the client whose token is introspected
    And the client has a token from the client credentials grant
    When the client revokes the access token
    And the introspector introspects the access token
    Then the response "active" is false

  # RFC 7662 §2.1: the endpoint is authorized; an unauthenticated caller
  # learns nothing about a live token.
  @negative @needs:client:introspected @needs:client_credentials @RFC7662-2.1
  Scenario: An unauthenticated caller learns nothing about an active token
    Given the client whose token is introspected
    And the client has a token from the client credentials grant
    When the suite introspects the access token without authentication
    Then the response status is one of 400, 401, 403
    And the response does not say the token is active

  @negative @RFC7662-2.3
  Scenario: An introspector with a wrong secret gets 401
    When the introspector introspects the token "anything" with a wrong secret
    Then the response status is 401
