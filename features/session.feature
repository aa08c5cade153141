@needs:authorization_code @needs:client:web @needs:user:valid @needs:browser
Feature: Single sign-on session, prompt and max_age
  After a login the provider remembers the user; later authorizations in
  the same browser need no password unless the client asks for one.

  Background:
    Given the web client

  @should @OIDCC-3.1.2.3
  Scenario: A second authorization in the same browser skips the login page
    Given the user has authorized the client with scope "openid"
    When the client sends an authorization request with scope "openid"
    And the user continues in the same browser
    Then the login page was not shown
    And the authorization response has a "code"

  @negative @needs:prompt_none @OIDCC-3.1.2.6 @OIDCC-3.1.2.1 @oidf:oidcc-prompt-none-not-logged-in
  Scenario: prompt=none without a session returns login_required
    When the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "none"
    And the browser opens the authorization request
    Then the authorization response has error one of "login_required", "interaction_required", "consent_required", "account_selection_required"
    And the authorization response echoes the state exactly
    And a redirected error echoes the state, names the issuer where it says it does, and carries no token

  @needs:prompt_none @OIDCC-3.1.2.1 @oidf:oidcc-prompt-none-logged-in
  Scenario: prompt=none with a session returns a code without any page
    Given the user has authorized the client with scope "openid"
    And the provider has kept the user signed in
    When the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "none"
    And the browser opens the authorization request
    Then the authorization response has a "code"
    When the client exchanges the code
    Then the ID token "sub" is the same as in the first ID token

  @should @OIDCC-3.1.2.1 @oidf:oidcc-prompt-login
  Scenario: prompt=login asks for the password again
    Given the user has authorized the client with scope "openid"
    When the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "login"
    And the user continues in the same browser
    Then the login page was shown
    And the authorization response has a "code"

  @OIDCC-2 @OIDCC-3.1.2.1 @oidf:oidcc-max-age-10000
  Scenario: With max_age the ID token carries auth_time
    When the client sends an authorization request with scope "openid"
    And the request has "max_age" set to "10000"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the ID token has a number "auth_time"
    And the ID token "auth_time" is not in the future

  @OIDCC-3.1.2.1 @oidf:oidcc-max-age-1
  Scenario: max_age shorter than the session's age requires a new login
    Given the user has authorized the client with scope "openid"
    When the suite waits 2 seconds
    And the client sends an authorization request with scope "openid"
    And the request has "max_age" set to "1"
    And the user continues in the same browser
    And the client exchanges the code
    Then the login page was shown
    And the ID token has a number "auth_time"
    And the ID token "auth_time" is later than in the first ID token

  @needs:prompt_none @OIDCC-3.1.2.1 @oidf:oidcc-id-token-hint
  Scenario: prompt=none with the id_token_hint of the session's user returns a code
    Given the user has authorized the client with scope "openid"
    And the provider has kept the user signed in
    When the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "none"
    And the request has the latest ID token as "id_token_hint"
    And the browser opens the authorization request
    Then the authorization response has a "code"
