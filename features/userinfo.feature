@needs:openid @needs:userinfo @needs:authorization_code @needs:client:web @needs:user:valid @needs:browser
Feature: UserInfo
  The UserInfo endpoint returns claims about the user for an access token
  granted the openid scope; the scopes decide which claims.

  @OIDCC-5.3.1 @OIDCC-5.3.2 @oidf:oidcc-userinfo-get
  Scenario: UserInfo by GET returns the subject of the ID token
    Given the web client
    And the user has authorized the client with scope "openid"
    When the client calls userinfo with GET and the access token in the header
    Then the response status is 200
    And the response "sub" is the ID token's "sub"

  @OIDCC-5.3.1 @oidf:oidcc-userinfo-post-header
  Scenario: UserInfo by POST with the token in the header
    Given the web client
    And the user has authorized the client with scope "openid"
    When the client calls userinfo with POST and the access token in the header
    Then the response status is 200
    And the response "sub" is the ID token's "sub"

  @should @RFC6750-2.2 @oidf:oidcc-userinfo-post-body
  Scenario: UserInfo by POST with the token in the form body
    Given the web client
    And the user has authorized the client with scope "openid"
    When the client calls userinfo with POST and the access token in the body
    Then the response status is 200
    And the response "sub" is the ID token's "sub"

  @should @needs:scope:profile @OIDCC-5.4 @oidf:oidcc-scope-profile
  Scenario: The profile scope releases the user's name
    Given the web client
    And the user has authorized the client with scope "openid profile"
    When the client calls userinfo with GET and the access token in the header
    Then the response status is 200
    And the response has the claims of the valid user for scope "profile"

  @should @needs:scope:email @OIDCC-5.4 @oidf:oidcc-scope-email
  Scenario: The email scope releases the user's email
    Given the web client
    And the user has authorized the client with scope "openid email"
    When the client calls userinfo with GET and the access token in the header
    Then the response status is 200
    And the response has the claims of the valid user for scope "email"

  @negative @OIDCC-5.3.3 @RFC6750-3
  Scenario: UserInfo without a token asks for one
    When the suite calls userinfo without a token
    Then the response status is 401
    And the response header "WWW-Authenticate" starts with "Bearer"

  @negative @OIDCC-5.3.3 @RFC6750-3
  Scenario: UserInfo refuses an invalid token with a Bearer challenge
    When the suite calls userinfo with the token "not-a-valid-access-token"
    Then the response status is one of 400, 401, 403
    And the response header "WWW-Authenticate" starts with "Bearer"

  @should @OIDCC-5.3.3 @RFC6750-3.1
  Scenario: UserInfo refuses an invalid token with 401 and invalid_token
    When the suite calls userinfo with the token "not-a-valid-access-token"
    Then the response status is 401
    And the WWW-Authenticate challenge has error "invalid_token"

  @should @needs:scope:address @OIDCC-5.4 @oidf:oidcc-scope-address
  Scenario: The address scope releases the user's address
    Given the web client
    And the user has authorized the client with scope "openid address"
    When the client calls userinfo with GET and the access token in the header
    Then the response status is 200
    And the response has the claims of the valid user for scope "address"

  @should @needs:scope:phone @OIDCC-5.4 @oidf:oidcc-scope-phone
  Scenario: The phone scope releases the user's phone number
    Given the web client
    And the user has authorized the client with scope "openid phone"
    When the client calls userinfo with GET and the access token in the header
    Then the response status is 200
    And the response has the claims of the valid user for scope "phone"

  @should @needs:scope:profile @needs:scope:email @needs:scope:address @needs:scope:phone @OIDCC-5.4 @oidf:oidcc-scope-all
  Scenario: All the standard scopes release their claims
    Given the web client
    And the user has authorized the client with scope "openid profile email address phone"
    When the client calls userinfo with GET and the access token in the header
    Then the response status is 200
    And the response has the claims of the valid user for scope "profile"
    And the response has the claims of the valid user for scope "email"
    And the response has the claims of the valid user for scope "address"
    And the response has the claims of the valid user for scope "phone"

  @should @needs:claims_parameter @OIDCC-5.5 @oidf:oidcc-claims-essential
  Scenario: An essential claim asked for with the claims parameter is returned
    Given the web client
    When the client sends an authorization request with scope "openid"
    And the request asks for the essential userinfo claim "name"
    And the user logs in and approves the request
    And the client exchanges the code
    And the client calls userinfo with GET and the access token in the header
    Then the response has a "name"

  # RFC 7009 §2: revoking access tokens is a SHOULD, and an endpoint that
  # validates tokens by their signature alone may learn of it late.
  @should @negative @needs:revocation @OIDCC-5.3.3 @RFC7009-2
  Scenario: UserInfo refuses a revoked access token with a Bearer challenge
    Given the web client
    And the user has authorized the client with scope "openid"
    When the client revokes the access token
    And the provider revoked it
    And the client calls userinfo with GET and the access token in the header
    Then the response status is one of 400, 401, 403
    And the response header "WWW-Authenticate" starts with "Bearer"

  @negative @OIDCC-5.3.3 @RFC6750-3
  Scenario: UserInfo refuses an access token whose signature was altered
    Given the web client
    And the user has authorized the client with scope "openid"
    When the client calls userinfo with the access token altered in its signature
    Then the response status is one of 400, 401, 403
    And the response header "WWW-Authenticate" starts with "Bearer"

  # RFC 6749 §1.5: a refresh token is sent to the authorization server
  # only, never to a resource; UserInfo takes access tokens (OIDC Core §5.3)
  # and answers anything else as an invalid token (RFC 6750 §3.1).
  @negative @needs:refresh_token @needs:offline_access @OIDCC-5.3.3 @RFC6750-3
  Scenario: UserInfo refuses a refresh token presented as the access token
    Given the web client
    And the user has authorized the client with scope "openid offline_access"
    When the client calls userinfo with the refresh token in place of the access token
    Then the response status is one of 400, 401, 403
    And the response header "WWW-Authenticate" starts with "Bearer"

  # OIDC Core §5.4: the scopes decide which claims are released; openid
  # alone asks for the subject only.
  @should @negative @needs:scope:email @OIDCC-5.4
  Scenario: With the openid scope alone UserInfo releases no email address
    Given the web client
    And the user has authorized the client with scope "openid"
    When the client calls userinfo with GET and the access token in the header
    Then the response status is 200
    And the response has no "email"
