@needs:authorization_code @needs:client:web @needs:user:valid @needs:browser
Feature: Authorization code flow with OpenID Connect (IRIS flow a)
  The web client sends the user to the authorization endpoint; the user
  logs in and consents in the browser; the client exchanges the code for
  tokens. This is the IRIS workshop's "simple web page" flow.

  Background:
    Given the web client

  @RFC6749-4.1.2 @OIDCC-3.1.2.5
  Scenario: The authorization response carries a code and the exact state
    When the client sends an authorization request with scope "openid profile email"
    And the user logs in and approves the request
    Then the authorization response has a "code"
    And the authorization response echoes the state exactly

  @RFC6749-5.1 @OIDCC-3.1.3.3
  Scenario: The code is exchanged for an access token and an ID token
    When the client sends an authorization request with scope "openid profile email"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the response status is 200
    And the response is JSON
    And the response has a string "access_token"
    And the response has a string "id_token"
    And the response "token_type" is "Bearer" ignoring case
    And the response header "Cache-Control" contains "no-store"

  @should @RFC6749-5.1
  Scenario: The token response states the lifetime of the access token
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the response status is 200
    And the response has a positive number "expires_in"

  @needs:iss_parameter @RFC9207-2
  Scenario: The authorization response identifies the issuer
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    Then the authorization response "iss" is the issuer URL

  @negative @RFC6749-4.1.2 @RFC6749-10.5 @oidf:oidcc-codereuse
  Scenario: A code can be used only once
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the client exchanges the code
    And the client exchanges the same code again
    Then the response status is 400
    And the response error is "invalid_grant"

  @should @RFC6749-4.1.2 @RFC9700-4.2.4 @oidf:oidcc-codereuse
  Scenario: Reusing a code revokes the tokens issued for it
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the client exchanges the code
    And the client exchanges the same code again
    Then the access token from the first exchange is no longer accepted by userinfo

  @negative @RFC6749-4.1.3
  Scenario: The code is bound to the redirect URI of the request
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the client exchanges the code with redirect_uri "https://127.0.0.1:9/elsewhere"
    Then the response status is 400
    And the response error is "invalid_grant"

  @negative @needs:client:other @RFC6749-4.1.3
  Scenario: The code is bound to the client it was issued to
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the other client exchanges the code
    Then the response status is one of 400, 401
    And the response error is one of "invalid_grant", "invalid_client", "unauthorized_client"

  @OIDCC-3.1.2.1 @oidf:oidcc-ensure-request-without-nonce-succeeds-for-code-flow
  Scenario: A request without a nonce succeeds in the code flow
    When the client sends an authorization request with scope "openid"
    And the request has no "nonce"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the response status is 200
    And the ID token is valid

  @RFC6749-3.1 @oidf:oidcc-ensure-request-with-unknown-parameter-succeeds
  Scenario: Unknown request parameters are ignored
    When the client sends an authorization request with scope "openid"
    And the request has "oauthtrio_unknown" set to "ignored"
    And the user logs in and approves the request
    Then the authorization response has a "code"

  @RFC6749-3.3 @oidf:oidcc-alternate-happy-flow
  Scenario: The order of scopes does not matter
    When the client sends an authorization request with scope "email profile openid"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the response status is 200
    And the ID token is valid

  @OIDCC-3.1.2.1 @oidf:oidcc-ensure-post-request-succeeds
  Scenario: The authorization request can be sent as a form POST
    When the client sends an authorization request with scope "openid"
    And the request is sent as a form POST
    And the user logs in and approves the request
    Then the authorization response has a "code"

  @negative @RFC6749-3.1.2.4 @RFC6749-4.1.2.1 @RFC9700-4.1.3 @OIDCC-3.1.2.1 @oidf:oidcc-ensure-registered-redirect-uri
  Scenario Outline: An unregistered redirect URI (<change>) gets an error page, never a redirect
    When the client sends an authorization request with scope "openid"
    And the request's redirect_uri is changed by <change>
    And the browser opens the authorization request
    Then the browser shows an error and is not redirected

    Examples:
      | change                |
      | "an extra path"       |
      | "an extra query"      |
      | "another port"        |
      | "a prefix only"       |
      | "another scheme"      |

  @negative @RFC6749-4.1.1 @RFC6749-4.1.2.1 @oidf:oidcc-response-type-missing
  Scenario: A request without response_type is refused
    When the client sends an authorization request with scope "openid"
    And the request has no "response_type"
    And the browser opens the authorization request
    Then the authorization fails with one of "invalid_request", "unsupported_response_type" or an error page
    And a redirected error echoes the state, names the issuer where it says it does, and carries no token

  # RFC 6749 §4.1.2.1: without a valid client the provider cannot know
  # where it may redirect, so it tells the user instead.
  @negative @RFC6749-4.1.1 @RFC6749-4.1.2.1
  Scenario: A request without client_id gets an error page, never a redirect
    When the client sends an authorization request with scope "openid"
    And the request has no "client_id"
    And the browser opens the authorization request
    Then the browser shows an error and is not redirected

  @negative @RFC6749-4.1.2.1
  Scenario: A request from an unknown client gets an error page, never a redirect
    When the client sends an authorization request with scope "openid"
    And the request has "client_id" set to "oauthtrio-no-such-client"
    And the browser opens the authorization request
    Then the browser shows an error and is not redirected

  @negative @RFC6749-4.1.2.1 @OIDCC-3.1.2.6
  Scenario: An unsupported response type is refused with the state and no token
    When the client sends an authorization request with scope "openid"
    And the request has "response_type" set to "oauthtrio_unknown_type"
    And the browser opens the authorization request
    Then the authorization fails with one of "unsupported_response_type", "invalid_request", "unauthorized_client" or an error page
    And a redirected error echoes the state, names the issuer where it says it does, and carries no token

  # RFC 6749 §3.1: parameters must not be sent twice, and §4.1.2.1 names a
  # repeated parameter as an invalid_request; a provider that reads the
  # two values as one response type it does not support refuses it too.
  @negative @RFC6749-3.1 @RFC6749-4.1.2.1
  Scenario: A request with a parameter sent twice is refused
    When the client sends an authorization request with scope "openid"
    And the request has "response_type" sent twice
    And the browser opens the authorization request
    Then the authorization fails with one of "invalid_request", "unsupported_response_type" or an error page
    And a redirected error echoes the state, names the issuer where it says it does, and carries no token

  # RFC 6749 §3.1.2.3: with several registered redirect URIs the request
  # must name one, and §3.1.2.4: a missing one is never redirected to.
  @negative @needs:registration @needs:dynamic_registration @RFC6749-3.1.2.3 @RFC6749-3.1.2.4 @OIDCC-3.1.2.1
  Scenario: With two registered redirect URIs a request without redirect_uri is refused
    When the suite registers a copy of the client with a second redirect URI
    And the client sends an authorization request with scope "openid"
    And the request has no "redirect_uri"
    And the browser opens the authorization request
    Then the browser shows an error and is not redirected

  # RFC 9207 §2: errors are authorization responses too.
  @negative @needs:iss_parameter @needs:prompt_none @RFC9207-2
  Scenario: An error response identifies the issuer
    When the client sends an authorization request with scope "openid"
    And the request has "prompt" set to "none"
    And the browser opens the authorization request
    Then the authorization response has a "error"
    And the authorization response "iss" is the issuer URL

  @negative @RFC6749-4.1.2 @RFC6749-10.5 @oidf:oidcc-codereuse-30seconds
  Scenario: A code cannot be used again after a while either
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the client exchanges the code
    And the suite waits the configured code reuse delay
    And the client exchanges the same code again
    Then the response status is 400
    And the response error is "invalid_grant"

  @negative @needs:wait:code_expiry @needs:client:code_expiry @RFC6749-4.1.2 @RFC6749-10.5
  Scenario: An expired code is refused
    Given the client whose code is left to expire
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the suite waits until the code has expired
    And the client exchanges the code
    Then the response status is 400
    And the response error is "invalid_grant"

  @RFC6749-4.1.2 @OIDCC-3.1.3.7
  Scenario: Long state and nonce values come back unchanged
    When the client sends an authorization request with scope "openid"
    And the request has a state of 500 characters
    And the request has a nonce of 500 characters
    And the user logs in and approves the request
    And the client exchanges the code
    Then the authorization response echoes the state exactly
    And the ID token "nonce" is the nonce of the request

  @OIDCC-3.1.2.1 @OIDCC-15.1
  Scenario Outline: The optional request parameter <parameter>=<value> causes no error
    When the client sends an authorization request with scope "openid"
    And the request has "<parameter>" set to "<value>"
    And the user logs in and approves the request
    Then the authorization response has a "code"

    @oidf:oidcc-display-page
    Examples:
      | parameter | value |
      | display   | page  |

    @oidf:oidcc-display-popup
    Examples:
      | parameter | value |
      | display   | popup |

    @oidf:oidcc-login-hint
    Examples:
      | parameter  | value               |
      | login_hint | someone@example.org |

    @oidf:oidcc-ui-locales
    Examples:
      | parameter  | value    |
      | ui_locales | es-ES en |

    @oidf:oidcc-claims-locales
    Examples:
      | parameter      | value |
      | claims_locales | es en |

    @oidf:oidcc-ensure-request-with-acr-values-succeeds
    Examples:
      | parameter  | value                 |
      | acr_values | urn:oauthtrio:any-acr |

  @OIDCC-3.1.3.7 @OIDCC-5.3.2 @oidf:oidcc-server
  Scenario: The whole happy path: code, valid ID token, matching UserInfo
    When the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    Then the authorization response echoes the state exactly
    When the client exchanges the code
    Then the response status is 200
    And the ID token is valid
    And the ID token "nonce" is the nonce of the request
    When the client calls userinfo with GET and the access token in the header
    Then the response status is 200
    And the response "sub" is the ID token's "sub"

  @needs:signing_alg:none @needs:registration @needs:dynamic_registration @OIDCC-3.1.3.7 @oidf:oidcc-idtoken-unsigned
  Scenario: A client registered for unsigned ID tokens gets them
    When the suite registers a copy of the client with "id_token_signed_response_alg" set to "none"
    And the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the response status is 200
    And the ID token header "alg" is "none"

  @needs:request_object @OIDCC-6.1 @oidf:oidcc-ensure-request-object-with-redirect-uri
  Scenario: The redirect_uri of a request object wins over the query's
    Given the provider accepts unsigned request objects, if it supports request objects
    When the client sends an authorization request with scope "openid"
    And the request carries its parameters in an unsigned request object
    And the request's redirect_uri is changed by "an extra path"
    And the response is expected at the registered redirect URI
    And the user logs in and approves the request
    Then the authorization response has a "code", or the browser shows an error

  # OIDC Core §6.3.3: a parameter both in the request object and in the
  # query takes the object's value, whether the object came by value (§6.1)
  # or by reference (§6.2). Only the object's redirect_uri is unregistered:
  # a provider that used the query's instead would send a code there.
  @negative @OIDCC-6.1 @OIDCC-6.2 @RFC6749-3.1.2.4
  Scenario Outline: An unregistered redirect URI in a request object <how> is refused, though the query's is registered
    Given the provider says it takes unsigned request objects <how>
    When the client sends an authorization request with scope "openid"
    And the request's redirect_uri is changed by "an extra path"
    And the request carries its parameters in an unsigned request object <how>
    And the query names the registered redirect URI again
    And the browser opens the authorization request
    Then the authorization fails with one of "invalid_request", "invalid_request_object", "invalid_request_uri" or an error page

    Examples:
      | how          |
      | by value     |
      | by reference |

  @OIDCC-6.1 @OIDCC-6.2 @oidf:oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported
  Scenario: An unsigned request object is processed or refused as unsupported
    Given the provider accepts unsigned request objects, if it supports request objects
    When the client sends an authorization request with scope "openid"
    And the request carries its parameters in an unsigned request object
    And the user logs in and approves the request
    Then the authorization response has a code or error "request_not_supported"

  @OIDCC-6.2 @oidf:oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported
  Scenario: A request_uri is processed or refused as unsupported
    Given the provider accepts unregistered request_uri values, if it supports request_uri
    When the client sends an authorization request with scope "openid"
    And the request carries its parameters by reference in a request_uri
    And the user logs in and approves the request
    Then the authorization response has a code or error "request_uri_not_supported"

  @should @RFC9700-4.16
  Scenario: The page behind the authorization endpoint refuses to be framed
    When the client sends an authorization request with scope "openid"
    And the suite fetches the authorization request's page without a browser
    Then the page forbids framing with X-Frame-Options or a CSP frame-ancestors directive
