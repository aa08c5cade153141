@role:resource-server
Feature: A resource server refuses the access tokens it must not accept
  The suite's own OpenID provider (the test OP) is the resource server's
  issuer. It mints each token, bent one way; the resource server is called
  with it in the Authorization header (RFC 6750 section 2.1). Each refusal
  scenario first checks that a correct token is accepted, so a resource
  server that refuses everything does not pass.

  @RFC6750-2.1 @RFC9068-4
  Scenario: A correct access token opens the protected resource
    Given the test OP mints a correct access token
    When the suite calls the protected resource with it
    Then the resource server accepts the token

  @negative
  Scenario Outline: The resource server refuses an access token with <what>
    Given the resource server accepts a correct access token from the test OP
    And the test OP mints an access token with <what>
    When the suite calls the protected resource with it
    Then the resource server refuses the token
    And the refusal carries a Bearer challenge

    @RFC9068-4 @RFC7515-5.2
    Examples: signature
      | what                                        |
      | a signature by a key its JWKS does not list |
      | a kid its JWKS does not list                |

    @RFC9068-4 @RFC8725-3.1
    Examples: no signature
      | what      |
      | alg none  |

    @RFC9068-4 @needs:rs_requires_at_jwt
    Examples: explicit typing
      | what       |
      | typ JWT    |
      | no typ     |

    @RFC9068-4
    Examples: issuer
      | what           |
      | another issuer |

    @RFC9068-4 @RFC7519-4.1.3
    Examples: audience
      | what             |
      | another audience |
      | no audience      |

    @RFC7519-4.1.4
    Examples: expiry
      | what                   |
      | an exp an hour ago     |

    @RFC7519-4.1.5
    Examples: not before
      | what                        |
      | an nbf an hour from now     |

    @RFC6749-7 @RFC7662-2.2 @needs:rs_introspects
    Examples: revocation
      | what                                |
      | introspection saying it is inactive |

  @RFC6749-7 @negative
  Scenario: The resource server refuses an access token without the scope it requires
    Given the resource server accepts a correct access token from the test OP
    And the test OP mints an access token without the required scope
    When the suite calls the protected resource with it
    Then the resource server refuses the token
    And the refusal carries a Bearer challenge

  @RFC6750-3.1 @should @negative
  Scenario Outline: An invalid access token (<what>) is answered 401 invalid_token
    Given the test OP mints an access token with <what>
    When the suite calls the protected resource with it
    Then the response is 401 with the Bearer error "invalid_token"

    Examples:
      | what                                        |
      | a signature by a key its JWKS does not list |
      | an exp an hour ago                          |
      | another audience                            |

  @RFC6750-3.1 @should @negative
  Scenario: A token without the required scope is answered 403 insufficient_scope
    Given the test OP mints an access token without the required scope
    When the suite calls the protected resource with it
    Then the response is 403 with the Bearer error "insufficient_scope"
