-- The oauthtrio peer's data, run by start.sh after the package's own schema
-- (the dbconfig-common sqlite3 install script, which also creates the
-- database user and client modules). start.sh replaces @ISSUER@ and
-- @REDIRECT_URI@; the plugin's signing key and certificate are read from
-- sign.key and sign.crt in the run directory (sqlite3's readfile).
-- All ids, secrets and the password are test-only values, also found in
-- target.yaml.

-- The schema comes with an administrator whose password is the well-known
-- "password"; this peer needs none.
DELETE FROM g_user WHERE gu_username = 'admin';

-- Scopes. A scope needs the password scheme (gs_password_required), so a
-- session without a password grants nothing.
UPDATE g_scope SET gs_password_required = 1, gs_password_max_age = 0 WHERE gs_name = 'openid';
INSERT INTO g_scope (gs_name, gs_display_name, gs_description, gs_password_required, gs_password_max_age) VALUES
  ('profile', 'Profile', 'Your name', 1, 0),
  ('email', 'E-mail', 'Your e-mail address', 1, 0),
  ('offline_access', 'Offline access', 'Refresh tokens', 1, 0),
  ('api:read', 'API read', 'Read the API', 1, 0);

-- The test user developer / test. The hash is PBKDF2-HMAC-SHA256 over
-- 1000 iterations, base64(digest || salt) with the 16-byte salt
-- "oauthtrioSalt16b", as the database user module writes it.
INSERT INTO g_user (gu_username, gu_name, gu_email, gu_enabled) VALUES ('developer', 'Dev Eloper', 'developer@example.org', 1);
INSERT INTO g_user_password (gu_id, guw_password) VALUES
  ((SELECT gu_id FROM g_user WHERE gu_username = 'developer'), 'k8jZHxiv1obrIdkI4NLc8NYXCF5ExCiJbCHPPosNqkJvYXV0aHRyaW9TYWx0MTZi');
INSERT INTO g_user_scope (gus_name) VALUES ('openid'), ('profile'), ('email'), ('offline_access'), ('api:read');
INSERT INTO g_user_scope_user (gu_id, gus_id)
  SELECT (SELECT gu_id FROM g_user WHERE gu_username = 'developer'), gus_id FROM g_user_scope
  WHERE gus_name IN ('openid', 'profile', 'email', 'offline_access', 'api:read');

-- Consent is remembered: developer has granted every scope to the browser
-- clients. Glewlwyd's grant panel and its Continue button are two steps
-- after the login, where the suite drives one consent click; with the
-- grant stored, the page after the login only shows Continue, which the
-- login profile (fixtures/profiles/glewlwyd.yaml) treats as the consent.
INSERT INTO g_client_user_scope (gs_id, gcus_username, gcus_client_id)
  SELECT gs_id, 'developer', client FROM g_scope,
    (SELECT 'oauthtrio-web' AS client UNION SELECT 'oauthtrio-public' UNION SELECT 'oauthtrio-other')
  WHERE gs_name IN ('openid', 'profile', 'email', 'offline_access', 'api:read');

-- Clients. client_secret is the plain-text secret property of the OIDC
-- plugin (it takes priority over the hashed gc_password, which stays empty).
INSERT INTO g_client (gc_client_id, gc_name, gc_description, gc_confidential, gc_enabled) VALUES
  ('oauthtrio-web', 'oauthtrio web', 'Confidential client of the code flow', 1, 1),
  ('oauthtrio-public', 'oauthtrio public', 'Public client with PKCE', 0, 1),
  ('oauthtrio-service', 'oauthtrio service', 'client_credentials client; also the introspector', 1, 1),
  ('oauthtrio-other', 'oauthtrio other', 'A second confidential client', 1, 1);

CREATE TEMP TABLE peer_property (client TEXT, name TEXT, value TEXT);
INSERT INTO peer_property VALUES
  ('oauthtrio-web', 'client_secret', 'web-secret-2c7e9a1f4b8d3e6a0c5f9b2d7e1a4c8f'),
  ('oauthtrio-web', 'token_endpoint_auth_method', 'client_secret_basic'),
  ('oauthtrio-web', 'redirect_uri', '@REDIRECT_URI@'),
  ('oauthtrio-web', 'authorization_type', 'code'),
  ('oauthtrio-web', 'authorization_type', 'token'),
  ('oauthtrio-web', 'authorization_type', 'id_token'),
  ('oauthtrio-web', 'authorization_type', 'refresh_token'),
  ('oauthtrio-web', 'authorization_type', 'delete_token'),
  ('oauthtrio-public', 'token_endpoint_auth_method', 'none'),
  ('oauthtrio-public', 'redirect_uri', '@REDIRECT_URI@'),
  ('oauthtrio-public', 'authorization_type', 'code'),
  ('oauthtrio-public', 'authorization_type', 'refresh_token'),
  ('oauthtrio-public', 'authorization_type', 'delete_token'),
  ('oauthtrio-service', 'client_secret', 'service-secret-8b3f1d6a9c2e5b7d0a4f8c1e6b9d3a7f'),
  ('oauthtrio-service', 'token_endpoint_auth_method', 'client_secret_basic'),
  ('oauthtrio-service', 'authorization_type', 'client_credentials'),
  ('oauthtrio-service', 'authorization_type', 'delete_token'),
  ('oauthtrio-other', 'client_secret', 'other-secret-4e9a2c7f1b5d8e3a6c0f9b4d2e7a1c5b'),
  ('oauthtrio-other', 'token_endpoint_auth_method', 'client_secret_post'),
  ('oauthtrio-other', 'redirect_uri', '@REDIRECT_URI@'),
  ('oauthtrio-other', 'authorization_type', 'code'),
  ('oauthtrio-other', 'authorization_type', 'refresh_token'),
  ('oauthtrio-other', 'authorization_type', 'client_credentials'),
  ('oauthtrio-other', 'authorization_type', 'delete_token');
INSERT INTO g_client_property (gc_id, gcp_name, gcp_value)
  SELECT (SELECT gc_id FROM g_client WHERE gc_client_id = client), name, value FROM peer_property;

-- Scopes a client gets at the client_credentials grant.
INSERT INTO g_client_scope (gcs_name) VALUES ('api:read');
INSERT INTO g_client_scope_client (gc_id, gcs_id)
  SELECT gc_id, (SELECT gcs_id FROM g_client_scope WHERE gcs_name = 'api:read') FROM g_client
  WHERE gc_client_id IN ('oauthtrio-service', 'oauthtrio-other');

-- The OpenID Connect plugin instance, at /api/oidc. RS256 with the key
-- start.sh generated. Introspection and revocation are open to a client for
-- its own tokens (allow-target-client), so the introspector of the target
-- configuration is the service client.
INSERT INTO g_plugin_module_instance (gpmi_module, gpmi_name, gpmi_display_name, gpmi_parameters, gpmi_enabled) VALUES ('oidc', 'oidc', 'OpenID Connect', json_object(
  'iss', '@ISSUER@',
  'jwt-type', 'rsa',
  'jwt-key-size', '256',
  'key', CAST(readfile('sign.key') AS TEXT),
  'cert', CAST(readfile('sign.crt') AS TEXT),
  'jwks-show', json('true'),
  'access-token-duration', 3600,
  'refresh-token-duration', 1209600,
  'code-duration', 600,
  'refresh-token-rolling', json('true'),
  'refresh-token-one-use', 'always',
  'allow-non-oidc', json('true'),
  'auth-type-code-enabled', json('true'),
  'auth-type-code-revoke-replayed', json('true'),
  'auth-type-token-enabled', json('true'),
  'auth-type-none-enabled', json('true'),
  'auth-type-password-enabled', json('false'),
  'auth-type-client-enabled', json('true'),
  'auth-type-device-enabled', json('false'),
  'auth-type-refresh-enabled', json('true'),
  'subject-type', 'public',
  'scope', json('[]'),
  'allowed-scope', json('["openid","profile","email","offline_access","api:read"]'),
  'name-claim', 'on-demand',
  'name-claim-scope', json('["profile"]'),
  'email-claim', 'on-demand',
  'email-claim-scope', json('["email"]'),
  'scope-claim', 'no',
  'claims', json('[]'),
  'address-claim', json('{"type":"no"}'),
  'pkce-allowed', json('true'),
  'pkce-method-plain-allowed', json('false'),
  'introspection-revocation-allowed', json('true'),
  'introspection-revocation-allow-target-client', json('true'),
  'introspection-revocation-auth-scope', json('[]'),
  'register-client-allowed', json('false'),
  'session-management-allowed', json('false'),
  'request-parameter-allow', json('true'),
  'oauth-as-iss-id', json('true')
), 1);
