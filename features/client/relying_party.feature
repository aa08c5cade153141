@role:client
Feature: A client refuses what its OpenID provider must not send
  The suite's own OpenID provider (the test OP) is the client's issuer. A
  login starts at the client in a browser; the test OP signs its one user
  in at once and bends one of its answers. The client profile says how the
  client shows a signed-in user. Each scenario first signs the user in
  with a correct test OP, so a client that never signs anyone in does not
  pass.

  Background:
    Given the client signs the user in with a correct test OP

  @negative
  Scenario Outline: The client refuses an ID token with <what>
    When the user signs in at the client while the test OP sends an ID token with <what>
    Then the client does not sign the user in

    @OIDCC-3.1.3.7 @oidf:rp-id-token-iss
    Examples: issuer
      | what           |
      | another issuer |

    @OIDCC-3.1.3.7 @oidf:rp-id-token-aud
    Examples: audience
      | what             |
      | another audience |

    @OIDCC-3.1.3.7
    Examples: expiry
      | what               |
      | an exp an hour ago |

    @OIDCC-3.1.3.7 @oidf:rp-nonce-invalid
    Examples: nonce
      | what          |
      | another nonce |
      | no nonce      |

    @OIDCC-2 @oidf:rp-id-token-iat
    Examples: no iat
      | what   |
      | no iat |

    @OIDCC-2 @oidf:rp-id-token-sub
    Examples: no sub
      | what   |
      | no sub |

  # Section 3.1.3.7 item 6 lets a client of the code flow, which gets the
  # ID token straight from the token endpoint over TLS, rely on TLS instead
  # of the signature; item 7 says the alg SHOULD be RS256 (or the one
  # registered), and section 2 forbids none to the OP unless the client
  # registered it. Accepting these is allowed, so it only warns.
  @should @negative
  Scenario Outline: The client should refuse an ID token with <what>
    When the user signs in at the client while the test OP sends an ID token with <what>
    Then the client does not sign the user in

    @OIDCC-3.1.3.7 @oidf:rp-id-token-bad-sig-rs256
    Examples: signature
      | what                                        |
      | a signature by a key its JWKS does not list |

    @OIDCC-3.1.3.7
    Examples: a key the JWKS lacks even when fetched again
      | what                         |
      | a kid its JWKS does not list |

    @OIDCC-3.1.3.7 @OIDCC-2
    Examples: no signature
      | what     |
      | alg none |

    @OIDCC-3.1.3.7
    Examples: several audiences (section 3.1.3.7 item 4 asks for azp)
      | what                         |
      | a second audience and no azp |

    @OIDCC-3.1.3.7
    Examples: issued in the future (item 10 leaves the range to the client)
      | what                  |
      | an iat a day from now |

    @OIDCC-3.1.3.8
    Examples: at_hash (section 3.1.3.8 lets a code-flow client skip it)
      | what            |
      | a wrong at_hash |

  @OIDCC-5.3.2 @oidf:rp-userinfo-bad-sub-claim @negative
  Scenario: The client does not use a UserInfo response about another user
    Given the client shows the user's UserInfo claims
    When the user signs in at the client while the test OP answers UserInfo about another user
    Then the page shows nothing of the other user's UserInfo

  @RFC9207-2.4 @needs:rp_iss_parameter @negative
  Scenario Outline: A client that supports RFC 9207 refuses an authorization response with <what>
    When the user signs in at the client while the test OP sends an authorization response with <what>
    Then the client does not sign the user in

    Examples:
      | what                |
      | another iss         |
      | no iss              |

  @RFC9700-4.7.1 @should @negative
  Scenario: The client refuses an authorization response with another state
    When the user signs in at the client while the test OP sends an authorization response with another state
    Then the client does not sign the user in

  @RFC9700-2.1.1
  Scenario: The client protects its authorization code with PKCE or a nonce
    Then the authorization request carried a PKCE challenge redeemed with its verifier, or a nonce

  @RFC9700-2.1.1 @RFC7636-4.2 @should
  Scenario: The client uses PKCE with S256
    Then the authorization request carried a PKCE challenge of method S256, redeemed with its verifier

  @OIDCC-3.1.2.1 @RFC9700-4.7.1 @should
  Scenario: The client sends a state
    Then the authorization request carried a state

  @OIDCC-3.1.2.1 @RFC9700-4.1.3
  Scenario: The client sends its registered redirect URI, byte for byte
    Then the authorization request and the code exchange named the registered redirect URI

  @RFC6750-5.3 @RFC9700-4.3.2 @should
  Scenario: No token travels in a URL
    Then no URL the browser requested carried a token the test OP issued

  # Last: the rotation stays, and a client that does not follow it would
  # fail every scenario after it.
  @OIDCC-10.1.1 @should @oidf:rp-key-rotation-op-sign-key
  Scenario: The client follows a rotation of the test OP's signing key
    When the test OP rotates its signing key
    And the user signs in at the client
    Then the client signs the user in
