@needs:authorization_code @needs:refresh_token @needs:offline_access @needs:client:web @needs:user:valid @needs:browser
Feature: Refresh tokens
  With offline_access the client gets a refresh token and uses it for new
  access tokens without the user.

  Background:
    Given the web client
    And the user has authorized the client with scope "openid offline_access"

  @RFC6749-6 @oidf:oidcc-refresh-token
  Scenario: A refresh token gives a new access token
    When the client refreshes the tokens
    Then the response status is 200
    And the response has a string "access_token"
    And the new access token differs from the previous one
    And the response header "Cache-Control" contains "no-store"

  @negative @needs:client:other @RFC6749-6 @RFC6749-10.4 @oidf:oidcc-refresh-token
  Scenario: Another client cannot use the refresh token
    When the other client refreshes with the refresh token
    Then the response status is one of 400, 401
    And the response error is one of "invalid_grant", "invalid_client", "unauthorized_client"

  @OIDCC-12.2
  Scenario: A refreshed ID token keeps the same subject, issuer and audience
    When the client refreshes the tokens
    Then the response status is 200
    And a refreshed ID token, when present, has the same "iss", "sub" and "aud" as the first one

  @negative @RFC6749-6
  Scenario: Refreshing cannot widen the scope
    When the client refreshes the tokens asking for scope "openid offline_access my/scope email profile phone address"
    Then the token is refused or its scope stays within "openid offline_access"

  @negative @RFC9700-4.14.2 @RFC6749-10.4
  Scenario: A rotated refresh token cannot be used again
    When the client refreshes the tokens
    And the provider rotated the refresh token
    And the client refreshes with the previous refresh token
    Then the response status is 400
    And the response error is "invalid_grant"
