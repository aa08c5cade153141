@needs:client_app @needs:user:valid @needs:browser
Feature: The reference client application end to end
  The IRIS workshop's client page: the user clicks "Authorize using
  AuthServer", logs in, consents, and the page shows the tokens and the
  resource server's answer.

  @IRIS-client
  Scenario: The client page shows the resource server's answer after login and consent
    When the browser opens the client application
    Then the page says "You are not authorized"
    When the user clicks "Authorize using AuthServer"
    And the user logs in and approves in the browser
    Then the page says "You are authorized"
    And the page element "#resource-status" says "200"
    And the page element "#userinfo" is not empty
    And the page element "#id-token-claims" is not empty
