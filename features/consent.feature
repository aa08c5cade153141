@needs:authorization_code @needs:client:web @needs:browser
Feature: Login and consent outcomes
  The user may refuse consent, or fail to log in. Either way the client
  gets no code.

  Background:
    Given the web client

  @needs:user:valid @RFC6749-4.1.2.1 @OIDCC-3.1.2.1
  Scenario: Denied consent returns access_denied with the state
    When the client sends an authorization request with scope "openid profile"
    And the request has "prompt" set to "consent"
    And the user logs in and denies the request
    Then the authorization response has error "access_denied"
    And the authorization response echoes the state exactly
    And the authorization response has no "code"

  @should @needs:user:valid @OIDCC-3.1.2.1
  Scenario: prompt=consent shows the consent page or returns an error
    Given the user has authorized the client with scope "openid profile"
    When the client sends an authorization request with scope "openid profile"
    And the request has "prompt" set to "consent"
    And the user continues in the same browser
    Then the consent page was shown, or the authorization response has an error

  @needs:user:invalid @needs:login_failure @IRIS-ValidateUser @RFC6749-4.1
  Scenario: A wrong password does not authorize
    When the client sends an authorization request with scope "openid"
    And the invalid user tries to log in
    Then the login page shows an error
    And the browser was not redirected to the client
