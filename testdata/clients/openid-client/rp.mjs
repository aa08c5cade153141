// A relying party built on panva's openid-client v6, run against the
// reference trio by cmd/oauthtrio/thirdparty_test.go: dynamic registration, discovery, authorization
// code + PKCE with state and nonce, userinfo, refresh, introspection,
// revocation, then the error answers for a revoked token, a wrong client
// secret and a denied consent. The user's login and consent are posted as plain HTML forms,
// with a small cookie jar, so no browser is needed.
//
// Environment:
//   OAUTHTRIO_ISSUER    the issuer, e.g. https://localhost:8443/authserver/oauth2
//   OAUTHTRIO_USERNAME  the user to log in as (default developer)
//   OAUTHTRIO_PASSWORD  their password (default test)
//   NODE_EXTRA_CA_CERTS the trio's certificate, so that fetch trusts it
//
// Prints one line per step and exits 1 at the first failure.

import net from 'node:net';
import * as client from 'openid-client';

const username = process.env.OAUTHTRIO_USERNAME || 'developer';
const password = process.env.OAUTHTRIO_PASSWORD || 'test';
const expectedName = 'Miguel de Cervantes Saavedra';
const scope = 'openid profile email offline_access my/scope';

class CheckError extends Error {}

function required(name) {
  const v = process.env[name];
  if (!v) throw new CheckError(`${name} is not set`);
  return v;
}

function check(cond, what, got) {
  if (!cond) {
    throw new CheckError(got === undefined ? what : `${what}; got ${JSON.stringify(got)}`);
  }
}

function step(name, detail) {
  console.log(`ok   ${name.padEnd(14)} ${detail}`);
}

// A port nothing listens on once we close it: the redirect URI is never
// fetched (the Location is read from the 303), but it should not point at
// a live service either.
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A cookie jar for a single origin: enough for the authorization server's
// host-only, path-scoped session cookies.
class CookieJar {
  #cookies = new Map(); // "path\0name" -> {name, value, path, expires}

  store(url, response) {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(url);
      let expires = Infinity;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path' && v.trim().startsWith('/')) path = v.trim();
        else if (key === 'max-age') expires = Date.now() + Number(v.trim()) * 1000;
        else if (key === 'expires' && expires === Infinity) expires = Date.parse(v.trim());
      }
      const id = `${path}\0${name}`;
      if (expires <= Date.now()) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path, expires });
    }
  }

  header(url) {
    const now = Date.now();
    const path = url.pathname;
    return [...this.#cookies.values()]
      .filter((c) => c.expires > now && pathMatches(path, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

// RFC 6265 §5.1.4.
function defaultPath(url) {
  const p = url.pathname;
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function pathMatches(requestPath, cookiePath) {
  return (
    requestPath === cookiePath ||
    (requestPath.startsWith(cookiePath) &&
      (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'))
  );
}

// The user agent: fetch without following redirects, so that the final 303
// to the redirect URI is seen and not followed.
const jar = new CookieJar();

async function browse(url, init = {}) {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(url, { ...init, headers, redirect: 'manual' });
  jar.store(url, response);
  return response;
}

// GETs url, following redirects within the authorization server, until a
// page or a redirect to the client's redirect URI.
async function navigate(url, redirectUri) {
  for (let hops = 0; hops < 10; hops++) {
    const response = await browse(url);
    if (![301, 302, 303, 307, 308].includes(response.status)) return { url, response };
    const location = new URL(response.headers.get('location'), url);
    if (location.href.startsWith(redirectUri)) return { url, response };
    url = location;
  }
  throw new CheckError(`too many redirects from ${url}`);
}

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e) => {
    const k = e.toLowerCase();
    if (k.startsWith('#x')) return String.fromCodePoint(parseInt(k.slice(2), 16));
    if (k.startsWith('#')) return String.fromCodePoint(parseInt(k.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[k];
  });
}

function attributes(tag) {
  const attrs = {};
  for (const m of tag.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4]);
  }
  return attrs;
}

// Finds <form id="formId"> in html and returns its resolved action and its
// hidden inputs.
function parseForm(html, formId, pageUrl) {
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const form = attributes(m[1]);
    if (form.id !== formId) continue;
    const hidden = {};
    for (const input of m[2].matchAll(/<input\b([^>]*)>/gi)) {
      const a = attributes(input[1]);
      if (a.type?.toLowerCase() === 'hidden' && a.name) hidden[a.name] = a.value ?? '';
    }
    return { action: new URL(form.action ?? '', pageUrl), hidden };
  }
  return null;
}

async function expectForm({ url, response }, formId, what) {
  const type = response.headers.get('content-type') ?? '';
  const body = await response.text();
  const where = response.headers.get('location') ?? pageText(body);
  check(response.status === 200, `${what}: expected 200 with a page, got ${response.status}: ${where}`);
  check(type.startsWith('text/html'), `${what}: expected text/html`, type);
  const form = parseForm(body, formId, url);
  check(form, `${what}: no <form id="${formId}"> in the page: ${pageText(body)}`);
  for (const name of ['interaction', 'csrf_token']) {
    check(form.hidden[name], `${what}: #${formId} has no hidden ${name}`, form.hidden);
  }
  return form;
}

async function submit(form, fields) {
  const response = await browse(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.hidden, ...fields }),
  });
  return { url: form.action, response };
}

// Awaits a promise that must reject and returns the reason.
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new CheckError('expected an error, the call succeeded');
}

async function main() {
  const issuer = new URL(required('OAUTHTRIO_ISSUER'));
  const redirectUri = `http://127.0.0.1:${await freePort()}/cb`;

  // RFC 7591 registration at the discovered registration_endpoint.
  const registered = await client.dynamicClientRegistration(issuer, {
    client_name: 'openid-client relying party',
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope,
  });
  const md = registered.clientMetadata();
  check(md.client_id, 'registration: no client_id');
  check(md.client_secret, 'registration: no client_secret for a confidential client');
  check(md.token_endpoint_auth_method === 'client_secret_basic', 'registration: token_endpoint_auth_method', md.token_endpoint_auth_method);
  check(JSON.stringify(md.redirect_uris) === JSON.stringify([redirectUri]), 'registration: redirect_uris', md.redirect_uris);
  step('registration', `client_id ${md.client_id}, redirect_uri ${redirectUri}`);

  // What a relying party with stored credentials does at start.
  const config = await client.discovery(
    issuer, md.client_id, md.client_secret, client.ClientSecretBasic(md.client_secret));
  const as = config.serverMetadata();
  check(as.issuer === issuer.href, 'discovery: issuer', as.issuer);
  check(as.supportsPKCE('S256'), 'discovery: code_challenge_methods_supported lacks S256', as.code_challenge_methods_supported);
  check(as.authorization_response_iss_parameter_supported === true,
    'discovery: authorization_response_iss_parameter_supported', as.authorization_response_iss_parameter_supported);
  for (const ep of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'introspection_endpoint', 'revocation_endpoint', 'jwks_uri']) {
    check(as[ep], `discovery: no ${ep}`);
  }
  step('discovery', `issuer ${as.issuer}`);

  // Authorization request.
  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const loginForm = await expectForm(await navigate(authorizationUrl, redirectUri), 'login-form', 'authorization request');
  step('login page', `${loginForm.action.pathname}`);

  const consentForm = await expectForm(await submit(loginForm, { username, password }), 'consent-form', 'login');
  step('consent page', `logged in as ${username}`);

  const approved = await submit(consentForm, { decision: 'approve' });
  check(approved.response.status === 303, 'consent: expected a 303 to the redirect URI', approved.response.status);
  const callback = new URL(approved.response.headers.get('location'), approved.url);
  check(callback.href.startsWith(redirectUri + '?'), 'consent: Location is not the redirect URI', callback.href);
  for (const p of ['code', 'state', 'iss']) {
    check(callback.searchParams.has(p), `consent: no ${p} in the redirect`, callback.href);
  }
  step('consent', `303 to ${callback.origin}${callback.pathname} with code, state, iss`);

  // Token request: openid-client checks state, iss, the ID token's
  // signature, iss, aud, nonce, at_hash and token_type.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  check(tokens.access_token, 'token: no access_token');
  check(tokens.refresh_token, 'token: no refresh_token with offline_access');
  check(tokens.token_type === 'bearer', 'token: token_type', tokens.token_type);
  const claims = tokens.claims();
  check(claims?.sub === username, 'token: ID token sub', claims?.sub);
  check(claims.nonce === nonce, 'token: ID token nonce', claims.nonce);
  step('token', `ID token for ${claims.sub}, scope "${tokens.scope}", expires_in ${tokens.expires_in}`);

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  check(userinfo.sub === username, 'userinfo: sub', userinfo.sub);
  check(userinfo.name === expectedName, 'userinfo: name', userinfo.name);
  check(userinfo.email, 'userinfo: no email with scope email', userinfo);
  step('userinfo', `${userinfo.sub}: ${userinfo.name} <${userinfo.email}>`);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  check(refreshed.access_token && refreshed.access_token !== tokens.access_token, 'refresh: no new access_token');
  check(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'refresh: no new refresh_token');
  check(refreshed.token_type === 'bearer', 'refresh: token_type', refreshed.token_type);
  const refreshedClaims = refreshed.claims();
  if (refreshedClaims) check(refreshedClaims.sub === username, 'refresh: ID token sub', refreshedClaims.sub);
  step('refresh', `new access and refresh tokens${refreshedClaims ? ' and ID token' : ''}`);

  const active = await client.tokenIntrospection(config, refreshed.access_token);
  check(active.active === true, 'introspection: refreshed access token not active', active);
  check(active.client_id === md.client_id, 'introspection: client_id', active.client_id);
  check(active.sub === undefined || active.sub === username, 'introspection: sub', active.sub);
  step('introspection', `active, client_id ${active.client_id}, scope "${active.scope}"`);

  await client.tokenRevocation(config, refreshed.access_token);
  const revoked = await client.tokenIntrospection(config, refreshed.access_token);
  check(revoked.active === false, 'revocation: access token still active', revoked);
  await client.tokenRevocation(config, refreshed.refresh_token);
  const revokedRefresh = await client.tokenIntrospection(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' });
  check(revokedRefresh.active === false, 'revocation: refresh token still active', revokedRefresh);
  step('revocation', 'access and refresh tokens revoked, introspection says inactive');

  // The error answers must be ones openid-client can read: RFC 6750
  // WWW-Authenticate challenges, RFC 6749 JSON errors, and RFC 9207 iss on
  // an authorization error response too.
  const challenge = await rejection(client.fetchUserInfo(config, refreshed.access_token, username));
  check(challenge instanceof client.WWWAuthenticateChallengeError, 'userinfo with a revoked token: expected a WWW-Authenticate challenge', String(challenge));
  const bearer = challenge.cause.find((c) => c.scheme === 'bearer');
  check(bearer?.parameters.error === 'invalid_token', 'userinfo with a revoked token: Bearer error', challenge.cause);
  step('revoked token', `userinfo ${challenge.status}, WWW-Authenticate Bearer error="${bearer.parameters.error}"`);

  const grantError = await rejection(client.refreshTokenGrant(config, refreshed.refresh_token));
  check(grantError instanceof client.ResponseBodyError, 'refresh with a revoked token: expected an OAuth error body', String(grantError));
  check(grantError.error === 'invalid_grant', 'refresh with a revoked token: error', grantError.error);
  step('revoked token', `refresh ${grantError.status} ${grantError.error}`);

  const wrongSecret = new client.Configuration(as, md.client_id, 'not-the-secret', client.ClientSecretBasic('not-the-secret'));
  const authError = await rejection(client.tokenIntrospection(wrongSecret, tokens.access_token));
  check(authError instanceof client.WWWAuthenticateChallengeError || authError instanceof client.ResponseBodyError,
    'introspection with a wrong secret: expected a 401 challenge or an OAuth error body', String(authError));
  check(authError.status === 401, 'introspection with a wrong secret: status', authError.status);
  step('wrong secret', `introspection ${authError.status} ${authError.error ?? authError.cause?.map((c) => c.scheme).join(', ')}`);

  // A second authorization: the login session is reused, prompt=consent
  // asks again, and the user cancels.
  const denyState = client.randomState();
  const denyUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state: denyState,
    nonce: client.randomNonce(),
    prompt: 'consent',
  });
  const denyForm = await expectForm(await navigate(denyUrl, redirectUri), 'consent-form', 'authorization with prompt=consent');
  const denied = await submit(denyForm, { decision: 'deny' });
  check(denied.response.status === 303, 'deny: expected a 303 to the redirect URI', denied.response.status);
  const denyCallback = new URL(denied.response.headers.get('location'), denied.url);
  check(denyCallback.href.startsWith(redirectUri + '?'), 'deny: Location is not the redirect URI', denyCallback.href);
  const denyError = await rejection(client.authorizationCodeGrant(config, denyCallback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: denyState,
  }));
  check(denyError instanceof client.AuthorizationResponseError, 'deny: expected an authorization error response', String(denyError));
  check(denyError.error === 'access_denied', 'deny: error', denyError.error);
  step('consent denied', `redirect with error=${denyError.error}, state and iss accepted`);

  console.log('PASS: openid-client relying party against ' + issuer.href);
}

// The visible text of a page's body, for failure messages.
function pageText(html) {
  const body = html.replace(/^[\s\S]*?<body\b[^>]*>/i, '').replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, '');
  return decodeEntities(body.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim().slice(0, 300);
}

main().catch((err) => {
  if (err instanceof CheckError) {
    console.error(`FAIL ${err.message}`);
  } else {
    // openid-client errors carry the server's answer in cause / error fields.
    console.error('FAIL', err);
  }
  process.exit(1);
});
