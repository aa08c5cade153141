# A user's own rules beside the shipped features: one the reference keeps,
# a SHOULD it does not (a warning) and a MUST it does not (a failure).
@needs:discovery
Feature: House rules
  Scenario: Our issuer publishes its keys
    When the suite fetches the discovery document
    Then the discovery document has the members:
      | member   |
      | jwks_uri |

  @should
  Scenario: Our issuer links its documentation
    When the suite fetches the discovery document
    Then the discovery document has the members:
      | member                |
      | service_documentation |

  Scenario: Our issuer offers the device flow
    When the suite fetches the discovery document
    Then the discovery document has the members:
      | member                        |
      | device_authorization_endpoint |
