#!/bin/sh
# Reproduces by hand, with curl, each deviation listed in
# expected-failures.yaml, against a Glewlwyd started by start.sh with the
# same environment:
#
#   export GLEWLWYD_PORT=4593 GLEWLWYD_REDIRECT_PORT=8765 GLEWLWYD_DIR=/tmp/glewlwyd
#   sh testdata/peers/glewlwyd/start.sh "$GLEWLWYD_DIR" &
#   sh testdata/peers/glewlwyd/reproduce.sh
#
# The user logs in through Glewlwyd's own login API (POST /api/auth/, what
# login.html does); "g_continue" on the authorization request is what the
# login page's Continue button adds. Codes and tokens are not printed.
set -u
port=${GLEWLWYD_PORT:?GLEWLWYD_PORT is not set}
redirect_port=${GLEWLWYD_REDIRECT_PORT:?GLEWLWYD_REDIRECT_PORT is not set}
dir=${GLEWLWYD_DIR:?GLEWLWYD_DIR is not set}
base=https://127.0.0.1:$port
op=$base/api/oidc
ru=https://127.0.0.1:$redirect_port/callback
rue=https%3A%2F%2F127.0.0.1%3A$redirect_port%2Fcallback
web=oauthtrio-web:web-secret-2c7e9a1f4b8d3e6a0c5f9b2d7e1a4c8f
jar=$(mktemp)
trap 'rm -f "$jar"' EXIT
c() { curl -s --cacert "$dir/tls.crt" -b "$jar" -c "$jar" "$@"; }
login() { c -o /dev/null -H 'Content-Type: application/json' -d '{"username":"developer","password":"test"}' "$base/api/auth/"; }
# code CLIENT [EXTRA]: a fresh code for CLIENT, with EXTRA authorization parameters.
code() {
	c -o /dev/null -w '%{redirect_url}' "$op/auth?response_type=code&client_id=$1&redirect_uri=$rue&scope=openid&state=s&nonce=n${2:-}&g_continue" |
		sed -n 's/.*[?&]code=\([^&]*\).*/\1/p'
}
token() { c -w ' HTTP %{http_code}\n' "$@" "$op/token"; }
login

echo "1. A used code is used again (RFC 6749 §5.2: 400, invalid_grant)"
k=$(code oauthtrio-web)
token -o /dev/null -u "$web" -d grant_type=authorization_code -d "code=$k" -d "redirect_uri=$ru"
token -u "$web" -d grant_type=authorization_code -d "code=$k" -d "redirect_uri=$ru"

echo "2. A code with another redirect_uri (RFC 6749 §4.1.3, §5.2: 400, invalid_grant)"
token -u "$web" -d grant_type=authorization_code -d "code=$(code oauthtrio-web)" -d "redirect_uri=$ru/other"

echo "3. Another client redeems the code (RFC 6749 §4.1.3, §5.2: 400, invalid_grant)"
token -d grant_type=authorization_code -d "code=$(code oauthtrio-web)" -d "redirect_uri=$ru" \
	-d client_id=oauthtrio-other -d client_secret=other-secret-4e9a2c7f1b5d8e3a6c0f9b4d2e7a1c5b

echo "4. A wrong code_verifier, then none (RFC 7636 §4.6: invalid_grant)"
v=oauthtrio-verifier-0123456789-0123456789-0123456789
ch=$(printf %s "$v" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d =)
pkce="&code_challenge=$ch&code_challenge_method=S256"
token -d grant_type=authorization_code -d "code=$(code oauthtrio-public "$pkce")" -d "redirect_uri=$ru" -d client_id=oauthtrio-public -d "code_verifier=${v}x"
token -d grant_type=authorization_code -d "code=$(code oauthtrio-public "$pkce")" -d "redirect_uri=$ru" -d client_id=oauthtrio-public

echo "5. A code_verifier for a code requested without a challenge (RFC 9700 §2.1.1: refused)"
token -o /dev/null -d grant_type=authorization_code -d "code=$(code oauthtrio-public)" -d "redirect_uri=$ru" -d client_id=oauthtrio-public -d "code_verifier=$v"

echo "6. A code flow request without nonce (OIDC Core §3.1.2.1: nonce is OPTIONAL)"
c -o /dev/null -w '%{redirect_url}\n' "$op/auth?response_type=code&client_id=oauthtrio-web&redirect_uri=$rue&scope=openid&state=s&g_continue"

echo "7. prompt=none with a session and stored consent, no id_token_hint (OIDC Core §3.1.2.1)"
c -o /dev/null -w '%{redirect_url}\n' "$op/auth?response_type=code&client_id=oauthtrio-web&redirect_uri=$rue&scope=openid&state=s&nonce=n&prompt=none"

echo "8. UserInfo without a token, then with an invalid one (RFC 6750 §3: WWW-Authenticate)"
c -D - -o /dev/null "$op/userinfo" | grep -i '^HTTP\|^www-authenticate' || true
c -D - -o /dev/null -H 'Authorization: Bearer not-a-valid-access-token' "$op/userinfo" | grep -i '^HTTP\|^www-authenticate' || true

echo "9. max_age=1 two seconds after the login: Continue (g_continue) comes back to the login page (OIDC Core §3.1.2.1)"
sleep 2
c -o /dev/null -w '%{redirect_url}\n' "$op/auth?response_type=code&client_id=oauthtrio-web&redirect_uri=$rue&scope=openid&state=s&nonce=n&max_age=1&g_continue"
