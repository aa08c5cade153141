# Shared by the scripts that run third-party clients against the reference:
# build oauthtrio, start `oauthtrio serve` in the background, stop it on
# exit, and wait for its discovery document. Source it, then call
# serve_start ADDR PUBLIC_URL. It sets work (a temporary directory removed
# on exit), state (the server's state directory, with tls.crt) and
# server_log.

work=$(mktemp -d)
state=$work/state
server_log=$work/serve.log
server_pid=

serve_cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid"
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap serve_cleanup EXIT

# serve_start ADDR PUBLIC_URL builds the binary, starts the trio and
# returns once discovery answers (at most 20 s).
serve_start() {
	local addr=$1 public_url=$2 root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	local discovery=$public_url/authserver/oauth2/.well-known/openid-configuration

	echo "== build"
	(cd "$root" && go build -o "$work/oauthtrio" ./cmd/oauthtrio)

	echo "== start oauthtrio serve on $addr as $public_url"
	"$work/oauthtrio" serve --addr "$addr" --public-url "$public_url" --state "$state" >"$server_log" 2>&1 &
	server_pid=$!

	local deadline=$((SECONDS + 20))
	until curl -fsS -o /dev/null --cacert "$state/tls.crt" "$discovery" 2>/dev/null; do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			echo "oauthtrio serve exited:" >&2
			cat "$server_log" >&2
			exit 1
		fi
		if ((SECONDS >= deadline)); then
			echo "no discovery document at $discovery after 20 s:" >&2
			cat "$server_log" >&2
			exit 1
		fi
		sleep 0.2
	done
	echo "discovery answers at $discovery"
}
