#!/usr/bin/env bash
# Make sure the services the server-mode tests talk to are installed and running on loopback:
# PostgreSQL 15 with PostGIS; and the headless browser the report and dashboard tests drive
# (Debian's chromium, plus poppler-utils to render PDF pages). Installs with apt (as root) only
# what is missing, starts only what is not running, and waits (bounded) until it answers.
# Safe to run again.
set -euo pipefail

PGPORT="${PGPORT:-5432}"

have_postgis() {
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1
}

if ! have_postgis; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing PostGIS (postgresql-15-postgis-3)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 >/dev/null
  else
    echo "PostGIS is missing and cannot be installed here (need root and apt-get);" \
         "install postgresql-15-postgis-3, or set TRUCELINE_SKIP_POSTGRES=1 to skip the server-store tests" >&2
    exit 1
  fi
fi

apt_install() {
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "$* missing and cannot be installed here (need root and apt-get)" >&2
    return 1
  fi
}

if [ "${TRUCELINE_SKIP_BROWSER:-0}" != "1" ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
fi

if ! pg_isready -h 127.0.0.1 -p "$PGPORT" -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "== starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  for _ in $(seq 1 60); do
    pg_isready -h 127.0.0.1 -p "$PGPORT" -q 2>/dev/null && break
    sleep 1
  done
fi
pg_isready -h 127.0.0.1 -p "$PGPORT" || { echo "PostgreSQL does not answer on 127.0.0.1:$PGPORT" >&2; exit 1; }
