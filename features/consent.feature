@needs:authorization_code @needs:client:web @needs:browser
Feature: Login and consent outcomes
  The user may refuse consent, or fail to log in. Either way the client
  gets no code.

  Background:
    Given the web client

  @negative @needs:user:valid @RFC6749-4.1.2.1 @OIDCC-3.1.2.1
  Scenario: Denied consent returns access_denied with the state
    When the client sends an authorization request with scope "openid profile"
    And the request has "prompt" set to "consent"
    And the user logs in and denies the request
    Then the authorization response has error "access_denied"
    And the authorization response echoes the state exactly
    And the authorization response has no "code"
    And a redirected error echoes the state, names the issuer where it says it does, and carries no token

  @should @needs:user:valid @OIDCC-3.1.2.1
  Scenario: prompt=consent shows the consent page or returns an error
    Given the user has authorized the client with scope "openid profile"
    When the client sends an authorization request with scope "openid profile"
    And the request has "prompt" set to "consent"
    And the user continues in the same browser
    Then the consent page was shown, or the authorization response has an error

  @negative @needs:user:invalid @needs:login_failure @IRIS-ValidateUser @RFC6749-4.1 @OIDCC-3.1.2.3
  Scenario: A wrong password does not authorize
    When the client sends an authorization request with scope "openid"
    And the invalid user tries to log in
    Then the login page shows an error
    And the browser was not redirected to the client

  # OIDC Core §11: the provider must always obtain the user's consent to
  # a refresh token for offline access. A consent given earlier for other
  # scopes is not consent to offline access; a consent the user gave to
  # offline access before may be (§11 lets other conditions stand in for
  # prompt=consent), so the client is a new one, which no one has
  # consented to yet.
  @negative @needs:registration @needs:dynamic_registration @needs:user:valid @needs:offline_access @needs:refresh_token @OIDCC-11
  Scenario: offline_access gives a refresh token only after the user consented to it
    Given the suite registers a copy of the client with "client_name" set to "oauthtrio offline access"
    And the user has authorized the client with scope "openid"
    When the client sends an authorization request with scope "openid offline_access"
    And the request has no "prompt"
    And the user continues in the same browser
    And the client exchanges the code if it got one
    Then a refresh token was issued only if the consent page was shown

  # OIDC Core §3.1.2.1: with prompt=none the provider shows no page and
  # answers with an error when the client lacks the user's consent. The
  # client is a new one, which no one has consented to, and the user has
  # just refused it on the consent page, so a code, or the consent page
  # again, would be a consent nobody gave.
  @negative @needs:registration @needs:dynamic_registration @needs:prompt_none @OIDCC-3.1.2.1 @OIDCC-3.1.2.6
  Scenario: prompt=none after the user refused consent returns an error, never a code
    Given the suite registers a copy of the client with "client_name" set to "oauthtrio consent refused"
    When the client sends an authorization request with scope "openid"
    And the user logs in and denies the request
    And the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "none"
    And the browser opens the authorization request
    Then the authorization response has error one of "consent_required", "interaction_required", "login_required", "account_selection_required"
    And the authorization response has no "code"

  # RFC 6749 §10.12: a login form posted from another site, with the
  # values a page of that site could know, must not sign the user in.
  @negative @needs:user:valid @RFC6749-10.12
  Scenario: The login form refuses a post from another site
    When the client sends an authorization request with scope "openid"
    And the suite fetches the login page twice without a browser, as the user and as another site
    And the other site makes the user's browser post its copy of the login form with the user's password
    Then the login was refused, where the user's own post of the form is accepted

  # RFC 6749 §10.12: the consent form, posted from another site with the
  # values a page of that site could know, must not approve the request
  # waiting in the user's browser.
  @negative @needs:user:valid @RFC6749-10.12
  Scenario: The consent form refuses a post from another site
    When the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "consent"
    And the suite signs in twice without a browser up to the consent page, as the user and as another site
    And the other site makes the user's browser send its copy of the consent form
    Then the consent was refused, where the user's own consent is accepted
