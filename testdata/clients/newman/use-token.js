// Does what Postman's "Get New Access Token" and "Use Token" buttons do, which
// newman cannot: for every request whose auth is OAuth 2.0 with the
// client_credentials grant, it asks the token endpoint named in the request
// for a token (RFC 6749 §4.4) and writes a copy of the collection with that
// token in the request's accessToken parameter. The collection itself is
// only read.
//
// usage: node use-token.js <collection.json> <out.json> <ca.pem>
'use strict';

const fs = require('node:fs');
const https = require('node:https');

const [collectionFile, outFile, caFile] = process.argv.slice(2);
if (!collectionFile || !outFile || !caFile) {
  console.error('usage: node use-token.js <collection.json> <out.json> <ca.pem>');
  process.exit(2);
}
const ca = fs.readFileSync(caFile);

function param(list, key) {
  const p = list.find((e) => e.key === key);
  return p ? p.value : undefined;
}

function requestToken(o) {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (o.scope) form.set('scope', o.scope);
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
  if (o.clientAuthentication === 'body') {
    form.set('client_id', o.clientId);
    form.set('client_secret', o.clientSecret);
  } else {
    // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
    const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
    headers.Authorization = 'Basic ' + Buffer.from(enc(o.clientId) + ':' + enc(o.clientSecret)).toString('base64');
  }
  const body = form.toString();
  headers['Content-Length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = https.request(o.accessTokenUrl, { method: 'POST', headers, ca }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`token endpoint ${o.accessTokenUrl}: HTTP ${res.statusCode}: ${data}`));
          return;
        }
        try {
          resolve(JSON.parse(data));
        } catch (e) {
          reject(new Error(`token endpoint ${o.accessTokenUrl}: not JSON: ${data}`));
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function* requestsOf(items) {
  for (const item of items || []) {
    if (item.request) yield item;
    yield* requestsOf(item.item);
  }
}

async function main() {
  const collection = JSON.parse(fs.readFileSync(collectionFile, 'utf8'));
  const tokens = new Map();
  for (const item of requestsOf(collection.item)) {
    const auth = item.request.auth;
    if (!auth || auth.type !== 'oauth2' || param(auth.oauth2, 'grant_type') !== 'client_credentials') continue;
    const o = {
      accessTokenUrl: param(auth.oauth2, 'accessTokenUrl'),
      clientId: param(auth.oauth2, 'clientId'),
      clientSecret: param(auth.oauth2, 'clientSecret'),
      scope: param(auth.oauth2, 'scope'),
      clientAuthentication: param(auth.oauth2, 'client_authentication'),
    };
    const key = JSON.stringify(o);
    if (!tokens.has(key)) tokens.set(key, await requestToken(o));
    const tok = tokens.get(key);
    if (!tok.access_token) throw new Error(`${item.name}: the token response has no access_token`);
    auth.oauth2 = auth.oauth2.filter((e) => e.key !== 'accessToken' && e.key !== 'tokenType');
    auth.oauth2.push({ key: 'accessToken', value: tok.access_token, type: 'string' });
    auth.oauth2.push({ key: 'tokenType', value: tok.token_type || 'Bearer', type: 'string' });
    console.log(`${item.name}: token from ${o.accessTokenUrl} (scope ${tok.scope || o.scope || '-'}, expires in ${tok.expires_in}s)`);
  }
  if (tokens.size === 0) throw new Error('the collection has no OAuth 2.0 client_credentials request');
  fs.writeFileSync(outFile, JSON.stringify(collection, null, 2));
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
