@needs:https
Feature: The issuer's TLS
  Every endpoint of an issuer carries credentials or tokens, so its TLS
  must refuse the protocol versions and cipher suites BCP 195 retires, and
  the pages a browser sees must keep the browser on HTTPS.

  @negative @RFC8996-2 @RFC8996-3
  Scenario Outline: The issuer refuses <version>
    When the suite opens a TLS connection to the issuer with only <version>
    Then the TLS handshake fails

    Examples:
      | version |
      | TLS 1.0 |
      | TLS 1.1 |

  @BCP195-4.2 @should @negative
  Scenario: Under TLS 1.2 the issuer negotiates no cipher suite without authenticated encryption
    When the suite opens a TLS connection to the issuer with only TLS 1.2 and CBC cipher suites
    Then the TLS handshake fails

  @BCP195-4.2
  Scenario: The issuer speaks TLS 1.2 or later
    When the suite opens a TLS connection to the issuer with TLS 1.2 or later
    Then the TLS handshake succeeds

  @BCP195-3.2 @should @needs:client:web
  Scenario: The page behind the authorization endpoint asks for HSTS
    Given the web client
    When the client sends an authorization request with scope "openid"
    And the suite fetches the authorization request's page without a browser
    Then the response has a "Strict-Transport-Security" header with a positive max-age
