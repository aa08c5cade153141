// A small web relying party on panva's openid-client v6, the client that
// `oauthtrio check --client` checks in steps/roles/openidclient_test.go
// (client profile fixtures/client-profiles/openid-client-rp.yaml). It does
// what the library's documentation shows for the authorization code flow:
// PKCE S256, state and nonce bound to the browser's session, the callback
// through authorizationCodeGrant, then UserInfo with the ID token's sub.
//
// Environment:
//   OAUTHTRIO_ISSUER        the issuer (the test OP)
//   OAUTHTRIO_CLIENT_ID     the client's registration there
//   OAUTHTRIO_CLIENT_SECRET
//   OAUTHTRIO_REDIRECT_URI  http://127.0.0.1:PORT/callback: where it listens
//   NODE_EXTRA_CA_CERTS     the issuer's certificate, so that fetch trusts it
//
// Pages: / (a "Log in" link, #login), /login, /callback: "Signed in as"
// (#signed-in) with the UserInfo response, or the error (#error).

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
}

const issuer = new URL(required('OAUTHTRIO_ISSUER'));
const clientId = required('OAUTHTRIO_CLIENT_ID');
const clientSecret = required('OAUTHTRIO_CLIENT_SECRET');
const redirectUri = new URL(required('OAUTHTRIO_REDIRECT_URI'));
const scope = 'openid profile email';

const config = await client.discovery(issuer, clientId, clientSecret);

// Pending logins by session cookie; a login is single use.
const pending = new Map();

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!DOCTYPE html><html><head><title>openid-client RP</title></head><body>${body}</body></html>`);
}

function sessionOf(req) {
  const m = /(?:^|;\s*)sid=([A-Za-z0-9_-]+)/.exec(req.headers.cookie || '');
  return m ? m[1] : '';
}

async function login(req, res) {
  const sid = randomBytes(16).toString('base64url');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  pending.set(sid, { verifier, state, nonce });
  const target = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri.href,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  res.writeHead(302, {
    Location: target.href,
    'Set-Cookie': `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`,
  });
  res.end();
}

async function callback(req, res) {
  const sid = sessionOf(req);
  const p = pending.get(sid);
  pending.delete(sid);
  if (!p) {
    page(res, 400, '<p id="error">no login is pending in this browser</p>');
    return;
  }
  try {
    const current = new URL(req.url, redirectUri);
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: p.verifier,
      expectedState: p.state,
      expectedNonce: p.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    page(res, 200, `<p id="signed-in">Signed in as <span id="sub">${escape(claims.sub)}</span></p>
<pre id="userinfo">${escape(JSON.stringify(userinfo, null, 2))}</pre>`);
  } catch (err) {
    page(res, 400, `<p id="error">${escape(err.name)}: ${escape(err.message)}</p>`);
  }
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, redirectUri).pathname;
  let handler;
  if (path === '/') {
    handler = async () => page(res, 200, '<p><a id="login" href="/login">Log in</a></p>');
  } else if (path === '/login') {
    handler = () => login(req, res);
  } else if (path === redirectUri.pathname) {
    handler = () => callback(req, res);
  } else {
    handler = async () => page(res, 404, '<p id="error">not found</p>');
  }
  handler().catch((err) => page(res, 500, `<p id="error">${escape(err.message)}</p>`));
});

server.listen(Number(redirectUri.port), redirectUri.hostname, () => {
  console.log(`listening on ${redirectUri.origin}`);
});
