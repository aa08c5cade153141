#!/usr/bin/env bash
# Runs the IRIS workshop's Postman collection with newman against
# `oauthtrio serve --public-url https://webserver`, as the workshop runs it
# against its web server, and checks that every request was answered 200
# with JSON.
#
# Needs go, node, npm and curl; writes a "127.0.0.1 webserver" line to
# /etc/hosts when there is none, and listens on 127.0.0.1:443, so it runs
# as root (or with the hosts entry already present and the right to bind
# port 443).
#
# The collection's requests use Postman's OAuth 2.0 helper with the
# client_credentials grant. newman never fetches such tokens (the Postman
# app does, through its "Get New Access Token" button), so use-token.js
# does that step and hands newman a copy with the token filled in; the
# collection file itself is only read.
#
# usage: scripts/newman/run.sh [collection.json]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
collection=$(realpath "${1:-$root/../shared/data/IRISOAuth2.postman_collection.json}")
public_url=https://webserver
addr=127.0.0.1:443

# shellcheck source=../lib/serve.sh
source "$root/scripts/lib/serve.sh"

if ! grep -Eq '^[[:space:]]*127\.0\.0\.1([[:space:]]+[^#[:space:]]+)*[[:space:]]+webserver([[:space:]]|$)' /etc/hosts; then
	echo "== adding '127.0.0.1 webserver' to /etc/hosts"
	echo "127.0.0.1 webserver" >>/etc/hosts
fi

serve_start "$addr" "$public_url"

echo "== install newman"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

echo "== get the collection's access tokens"
node "$here/use-token.js" "$collection" "$work/collection.json" "$state/tls.crt"

echo "== newman run $(basename "$collection")"
"$here/node_modules/.bin/newman" run "$work/collection.json" \
	--ssl-extra-ca-certs "$state/tls.crt" \
	--reporters cli,json --reporter-json-export "$work/newman.json"

echo "== check"
count=$(node -e 'let n=0;const w=(a)=>{for(const i of a||[]){if(i.request)n++;w(i.item)}};w(require(process.argv[1]).item);console.log(n)' "$collection")
node "$here/check-report.js" "$work/newman.json" "$count"
echo "PASS: $count requests answered 200 with JSON"
