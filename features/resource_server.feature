@needs:resource_server
Feature: The resource server accepts and refuses tokens (RFC 6750)
  The protected resource of the IRIS workshop (/resserver/protected-resources/)
  accepts a valid bearer token and refuses every other request with the
  challenge RFC 6750 §3 prescribes.

  @needs:client:service @needs:client_credentials @RFC6750-2.1 @IRIS-resserver
  Scenario: A valid token with the required scope is accepted
    Given the service client
    And the client has a token from the client credentials grant
    When the resource server is called with the access token
    Then the response status is 200
    And the response is JSON

  @negative @RFC6750-3
  Scenario: A request without a token gets a Bearer challenge
    When the resource server is called without a token
    Then the response status is 401
    And the response header "WWW-Authenticate" starts with "Bearer"

  @should @RFC6750-3.1
  Scenario: The challenge to a request without a token carries no error code
    When the resource server is called without a token
    Then the WWW-Authenticate challenge has no error

  # RFC 6750 §3: a refused request MUST carry the Bearer challenge; the
  # status and the error attribute of §3.1 are SHOULDs, checked apart.
  @negative @RFC6750-3 @RFC9068-4
  Scenario Outline: An unusable token (<token>) is refused with a Bearer challenge
    When the resource server is called with <token>
    Then the response status is one of 400, 401, 403
    And the response header "WWW-Authenticate" starts with "Bearer"

    Examples:
      | token                                  |
      | "a malformed token"                    |
      | "a JWT signed by an unknown key"       |
      | "a JWT with alg none"                  |

  @should @RFC6750-3.1
  Scenario Outline: An unusable token (<token>) is refused with 401 and invalid_token
    When the resource server is called with <token>
    Then the response status is 401
    And the WWW-Authenticate challenge has error "invalid_token"

    Examples:
      | token                                  |
      | "a malformed token"                    |
      | "a JWT signed by an unknown key"       |
      | "a JWT with alg none"                  |

  @negative @needs:client:service @needs:client_credentials @RFC6750-3 @RFC9068-4
  Scenario: A token whose signature was tampered with is refused
    Given the service client
    And the client has a token from the client credentials grant
    When the resource server is called with the access token altered in its signature
    Then the response status is one of 400, 401, 403
    And the response header "WWW-Authenticate" starts with "Bearer"

  @should @needs:client:service @needs:client_credentials @RFC6750-3.1
  Scenario: A token whose signature was tampered with is refused with invalid_token
    Given the service client
    And the client has a token from the client credentials grant
    When the resource server is called with the access token altered in its signature
    Then the response status is 401
    And the WWW-Authenticate challenge has error "invalid_token"

  @negative @needs:authorization_code @needs:client:web @needs:user:valid @needs:browser @RFC6750-3
  Scenario: A token without the required scope is refused with a Bearer challenge
    Given the web client
    And the user has authorized the client with scope "openid"
    When the resource server is called with the access token
    Then the response status is one of 400, 401, 403
    And the response header "WWW-Authenticate" starts with "Bearer"

  @should @needs:authorization_code @needs:client:web @needs:user:valid @needs:browser @RFC6750-3.1
  Scenario: A token without the required scope is refused with insufficient_scope
    Given the web client
    And the user has authorized the client with scope "openid"
    When the resource server is called with the access token
    Then the response status is 403
    And the WWW-Authenticate challenge has error "insufficient_scope"

  # RFC 7009 §2: revoking access tokens is a SHOULD, and a resource server
  # may learn of a revocation late.
  @should @needs:revocation @needs:client:service @needs:client_credentials @RFC6750-3.1 @RFC7009-2
  Scenario: A revoked token is refused at once
    Given the service client
    And the client has a token from the client credentials grant
    When the client revokes the access token
    And the resource server is called with the access token
    Then the response status is 401
    And the WWW-Authenticate challenge has error "invalid_token"
