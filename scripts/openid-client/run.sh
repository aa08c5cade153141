#!/usr/bin/env bash
# Runs rp.mjs, a relying party built on npm's openid-client v6, against
# `oauthtrio serve` on a free loopback port: the reference must work with a
# strict client written by someone else (issuer match, RFC 9207 iss, ID
# token checks, content types).
#
# Needs go, node (20 or later), npm and curl. The server gets a fresh
# state directory, so a new CA certificate, which node trusts through
# NODE_EXTRA_CA_CERTS.
#
# usage: scripts/openid-client/run.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# openid-client v6 relies on the global fetch and WebCrypto of Node 20.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
	echo "openid-client v6 needs Node.js 20 or later; this is $(node --version)" >&2
	exit 1
fi

# shellcheck source=../lib/serve.sh
source "$root/scripts/lib/serve.sh"

# The public URL has to name the port, so pick one rather than use :0.
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
public_url=https://localhost:$port
issuer=$public_url/authserver/oauth2
serve_start "127.0.0.1:$port" "$public_url"

echo "== install openid-client"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

echo "== node rp.mjs"
if ! OAUTHTRIO_ISSUER=$issuer OAUTHTRIO_USERNAME=developer OAUTHTRIO_PASSWORD=test \
	NODE_EXTRA_CA_CERTS=$state/tls.crt node "$here/rp.mjs"; then
	echo "== server log" >&2
	cat "$server_log" >&2
	exit 1
fi
