@needs:registration @needs:dynamic_registration
Feature: Dynamic client registration (RFC 7591)
  Where the provider lets clients register themselves, the suite registers
  one and uses it.

  @RFC7591-3.2.1
  Scenario: A client registers and receives its identifier
    When the suite registers a client with redirect URI "https://127.0.0.1:9/callback"
    Then the response status is 201
    And the response has a string "client_id"
    And the response "redirect_uris" contains "https://127.0.0.1:9/callback"

  @negative @RFC7591-3.2.2 @RFC6749-3.1.2
  Scenario: A redirect URI with a fragment is refused
    When the suite registers a client with redirect URI "https://127.0.0.1:9/callback#fragment"
    Then the response status is 400
    And the response error is one of "invalid_redirect_uri", "invalid_client_metadata"

  @needs:client_credentials @RFC7591-3.2.1 @RFC6749-4.4
  Scenario: A registered client can use its credentials
    When the suite registers a client for the client credentials grant
    And the registered client requests a token with the client credentials grant
    Then the response status is 200
    And the response has a string "access_token"

  @needs:auth_method:client_secret_post @needs:authorization_code @needs:user:valid @needs:browser @needs:client:web @RFC6749-2.3.1 @oidf:oidcc-server-client-secret-post
  Scenario: A client authenticating with client_secret_post gets its tokens
    Given the web client
    When the suite registers a copy of the client with token_endpoint_auth_method "client_secret_post"
    And the client sends an authorization request with scope "openid"
    And the user logs in and approves the request
    And the client exchanges the code
    Then the response status is 200
    And the ID token is valid

  # RFC 6749 §3.1.2: a redirection URI is absolute.
  @negative @RFC7591-3.2.2 @RFC6749-3.1.2
  Scenario: A relative redirect URI is refused
    When the suite registers a client with redirect URI "/callback"
    Then the response status is 400
    And the response error is one of "invalid_redirect_uri", "invalid_client_metadata"

  # RFC 7591 §2: the server ignores metadata it does not understand.
  @RFC7591-2
  Scenario: Unknown client metadata is ignored
    When the suite registers a client with redirect URI "https://127.0.0.1:9/callback" and the metadata "oauthtrio_unknown_member" set to "ignored"
    Then the response status is 201
    And the response has a string "client_id"
