#!/usr/bin/env bash
# Installs what oauthtrio needs beside Go on a Debian machine: Chromium for
# the browser steps, curl, and Node.js with npm for the third-party clients
# and peers. Does nothing for what is already there.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [[ -x /usr/lib/chromium/chromium ]] || need+=(chromium)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || need+=(ca-certificates)

if ((${#need[@]} == 0)); then
	exit 0
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
	sudo=(sudo)
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${need[@]}"; then
	"${sudo[@]}" apt-get update
	"${sudo[@]}" apt-get install -y --no-install-recommends "${need[@]}"
fi
