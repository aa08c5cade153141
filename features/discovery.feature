@needs:discovery
Feature: Discovery and JWKS
  An OpenID Provider publishes its metadata at the issuer's well-known
  location, and the keys that sign its tokens at jwks_uri. Every later
  feature reads its endpoints from this document.

  @OIDCD-4.3
  Scenario: The discovery document names the issuer it was fetched for
    When the suite fetches the discovery document
    Then the response status is 200
    And the response is JSON
    And the discovery "issuer" is exactly the issuer URL

  @OIDCD-3 @RFC8414-2
  Scenario: The discovery document has every required member
    When the suite fetches the discovery document
    Then the discovery document has the members:
      | member                                |
      | issuer                                |
      | authorization_endpoint                |
      | token_endpoint                        |
      | jwks_uri                              |
      | response_types_supported              |
      | subject_types_supported               |
      | id_token_signing_alg_values_supported |

  @OIDCD-3
  Scenario: RS256 is among the ID token signing algorithms
    When the suite fetches the discovery document
    Then the discovery list "id_token_signing_alg_values_supported" contains "RS256"

  # OIDC Discovery §3: servers MAY leave supported scopes out of
  # scopes_supported, openid included.
  @should @OIDCD-3
  Scenario: Listed scopes include openid
    When the suite fetches the discovery document
    Then the discovery list "scopes_supported", when present, contains "openid"

  @OIDCD-3 @RFC8414-2
  Scenario: Every endpoint uses https
    When the suite fetches the discovery document
    Then every endpoint in the discovery document uses https

  @needs:jwks @OIDCD-3
  Scenario: The JWK Set holds public signing keys
    When the suite fetches the JWK Set
    Then the response status is 200
    And the JWK Set has at least one signing key
    And the JWK Set has no private or symmetric key material

  # RFC 7517 §4.5: keys of a set SHOULD have distinct kid values (OIDC
  # Core §10.1 needs a kid in the token header to pick among several).
  @should @needs:jwks @OIDCC-10.1
  Scenario: The keys of the JWK Set have distinct key ids
    When the suite fetches the JWK Set
    Then the keys of the JWK Set have distinct "kid" values

  # RFC 8414 §5: a provider serving OpenID Connect discovery need not
  # serve RFC 8414 metadata too; where it does, the issuer must match.
  @needs:rfc8414 @RFC8414-3 @RFC8414-3.3
  Scenario: The RFC 8414 metadata at the path-inserted location names the same issuer
    When the suite fetches the RFC 8414 authorization server metadata
    Then the response status is 200
    And the discovery "issuer" is exactly the issuer URL
