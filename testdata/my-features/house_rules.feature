@needs:discovery
Feature: House rules
  A feature of one's own, written with the shipped steps: it runs beside
  the shipped features with --features testdata/my-features.

  Scenario: Our issuer publishes its keys
    When the suite fetches the discovery document
    Then the response status is 200
    And the discovery document has the members:
      | member   |
      | jwks_uri |
