#!/usr/bin/env bash
# Installs the local services the connector integration tests start on loopback, when missing:
# PostgreSQL server binaries (Debian package `postgresql`) and moto's server (`moto[server]`).
# Idempotent; safe to call from CI before `npm run test:integration`.
set -euo pipefail

have_postgres() {
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1
}

if have_postgres && id -u postgres >/dev/null 2>&1; then
  echo "postgresql: present"
else
  echo "postgresql: installing (apt-get install -y postgresql)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  # The tests start their own throwaway cluster; the package's default cluster is not needed.
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for v in /etc/postgresql/*/main; do
      [ -d "$v" ] && $SUDO pg_ctlcluster "$(basename "$(dirname "$v")")" main stop >/dev/null 2>&1 || true
    done
  fi
fi

if command -v moto_server >/dev/null 2>&1; then
  echo "moto_server: present"
else
  echo "moto_server: installing (pip install 'moto[server]==5.2.1')"
  PIP="pip3"
  command -v pip3 >/dev/null 2>&1 || PIP="python3 -m pip"
  $PIP install --quiet 'moto[server]==5.2.1'
  command -v moto_server >/dev/null 2>&1 || {
    echo "moto_server is still not on PATH after install: add pip's script directory to PATH" >&2
    exit 1
  }
fi
