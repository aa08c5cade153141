#!/bin/sh
# Starts Glewlwyd (Debian's glewlwyd package, 2.7) as an OpenID provider for
# the oauthtrio suite, in the foreground, on https://127.0.0.1:$GLEWLWYD_PORT
# with the issuer https://127.0.0.1:$GLEWLWYD_PORT/api/oidc.
#
#   GLEWLWYD_PORT=4593 GLEWLWYD_REDIRECT_PORT=8765 sh start.sh RUNDIR
#
# RUNDIR (created if missing) receives everything made for the run: a
# self-signed TLS certificate for 127.0.0.1 (tls.crt, the CA file of the
# target configuration), the token signing key, the SQLite database, the
# configuration and the web application's directory. No key is committed.
# Needs glewlwyd, sqlite3 and openssl.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: start.sh RUNDIR}
port=${GLEWLWYD_PORT:?GLEWLWYD_PORT is not set}
redirect_port=${GLEWLWYD_REDIRECT_PORT:?GLEWLWYD_REDIRECT_PORT is not set}
issuer="https://127.0.0.1:$port/api/oidc"
redirect_uri="https://127.0.0.1:$redirect_port/callback"
share=/usr/share/glewlwyd

for tool in glewlwyd sqlite3 openssl; do
	command -v "$tool" >/dev/null || { echo "start.sh: $tool is not installed (apt-get install -y glewlwyd sqlite3 openssl)" >&2; exit 127; }
done

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$dir"
rm -rf webapp glewlwyd.db

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout tls.key -out tls.crt 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=oauthtrio-glewlwyd-signing \
	-keyout sign.key -out sign.crt 2>/dev/null

# A copy of the package's web application with its links resolved (Glewlwyd
# serves no file a symbolic link leads to; Debian links the JavaScript and
# CSS libraries and fonts to other packages), except config.json:
# Debian links it to /etc/glewlwyd/config-2.7.json, a directory holding the
# real file.
mkdir webapp
for f in "$share"/webapp/*; do
	[ "$(basename "$f")" = config.json ] || cp -RL "$f" webapp/
done
if [ -d "$share/webapp/config.json" ]; then
	cp "$share/webapp/config.json/config.json" webapp/config.json
else
	cp "$share/webapp/config.json" webapp/config.json
fi

# The package's schema (the script dbconfig-common runs), then the peer's data.
schema=/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
[ -f "$schema" ] || schema=/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz
case $schema in
*.gz) gzip -dc "$schema" ;;
*) cat "$schema" ;;
esac | sqlite3 -bail glewlwyd.db
sed -e "s|@ISSUER@|$issuer|g" -e "s|@REDIRECT_URI@|$redirect_uri|g" "$here/seed.sql" | sqlite3 -bail glewlwyd.db

sed -e "s|@PORT@|$port|g" -e "s|@DIR@|$dir|g" "$here/glewlwyd.conf" >glewlwyd.conf
exec glewlwyd --config-file="$dir/glewlwyd.conf"
