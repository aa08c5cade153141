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
discovery=$public_url/authserver/oauth2/.well-known/openid-configuration

work=$(mktemp -d)
state=$work/state
server_pid=
cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid"
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "== build"
(cd "$root" && go build -o "$work/oauthtrio" ./cmd/oauthtrio)

if ! grep -Eq '^[[:space:]]*127\.0\.0\.1([[:space:]]+[^#[:space:]]+)*[[:space:]]+webserver([[:space:]]|$)' /etc/hosts; then
	echo "== adding '127.0.0.1 webserver' to /etc/hosts"
	echo "127.0.0.1 webserver" >>/etc/hosts
fi

echo "== start oauthtrio serve on $addr as $public_url"
"$work/oauthtrio" serve --public-url "$public_url" --addr "$addr" --state "$state" >"$work/serve.log" 2>&1 &
server_pid=$!

# Poll discovery for up to 20 s.
deadline=$((SECONDS + 20))
until curl -fsS -o /dev/null --cacert "$state/tls.crt" "$discovery" 2>/dev/null; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "oauthtrio serve exited:" >&2
		cat "$work/serve.log" >&2
		exit 1
	fi
	if ((SECONDS >= deadline)); then
		echo "no discovery document at $discovery after 20 s:" >&2
		cat "$work/serve.log" >&2
		exit 1
	fi
	sleep 0.2
done
echo "discovery answers at $discovery"

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
