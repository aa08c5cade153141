@needs:end_session @needs:authorization_code @needs:client:web @needs:user:valid @needs:browser
Feature: RP-initiated logout
  A client sends its user to the provider's end_session_endpoint to end the
  session there, and may ask to be sent back to a post-logout URI it
  registered. The provider must never send the user to an unregistered
  one, nor, without the client's ID token or the user's confirmation, to
  any: otherwise the logout endpoint is an open redirector.

  Background:
    Given the web client
    And the user has authorized the client with scope "openid"

  @OIDCRPL-2
  Scenario: A logout with the ID token as hint returns the state to the registered post-logout URI
    When the browser opens the logout request with the ID token, the registered post-logout URI and state "logout-1"
    Then the browser is sent back to the post-logout URI with state "logout-1"

  @negative @OIDCRPL-3 @RFC9700-4.11
  Scenario: An unregistered post-logout URI is never redirected to
    When the browser opens the logout request with the ID token, an unregistered post-logout URI and state "logout-2"
    Then the browser is not sent to the post-logout URI

  @negative @OIDCRPL-3 @RFC9700-4.11
  Scenario: Without the ID token as hint no one is sent to the post-logout URI unasked
    When the browser opens the logout request without a hint, the registered post-logout URI and state "logout-3"
    Then the browser is not sent to the post-logout URI

  @OIDCRPL-2 @needs:prompt_none
  Scenario: After the logout the provider's session is over
    Given the provider has kept the user signed in
    When the browser opens the logout request with the ID token, the registered post-logout URI and state "logout-4"
    Then the browser is sent back to the post-logout URI with state "logout-4"
    When the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "none"
    And the browser opens the authorization request
    Then the authorization response has error one of "login_required", "interaction_required", "consent_required", "account_selection_required"

  # RP-Initiated Logout 1.0 §2: once the user is logged out, the session
  # at the OP is over. A copy of its cookie taken before the logout (in
  # another tab, or by a thief) must not bring it back. The spec does not
  # say how a session is kept, and one kept only in a signed cookie cannot
  # be ended at the server: a warning, not a failure.
  @should @negative @OIDCRPL-2 @needs:prompt_none
  Scenario: After the logout the session's earlier cookies sign no one in
    Given the provider has kept the user signed in
    And the browser's cookies are saved
    When the browser opens the logout request with the ID token, the registered post-logout URI and state "logout-6"
    Then the browser is sent back to the post-logout URI with state "logout-6"
    When the saved cookies are put back into the browser
    And the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "none"
    And the browser opens the authorization request
    Then the authorization response has error one of "login_required", "interaction_required", "consent_required", "account_selection_required"

  # RP-Initiated Logout 1.0 §2: the provider validates that it issued the
  # id_token_hint; a hint whose signature was altered proves nothing, so
  # §3 forbids the redirection as if there were no hint.
  @negative @OIDCRPL-2 @OIDCRPL-3 @RFC9700-4.11
  Scenario: A forged ID token as hint sends no one to the post-logout URI
    When the browser opens the logout request with a forged ID token, the registered post-logout URI and state "logout-5"
    Then the browser is not sent to the post-logout URI
