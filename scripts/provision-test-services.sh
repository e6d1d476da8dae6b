#!/usr/bin/env bash
# Installs, when missing, the local services that the integration tests (npm run test:integration)
# start on loopback: Prometheus Alertmanager and the PostgreSQL server binaries (Debian packages)
# and moto's server (`moto[server]` from PyPI), and Python's venv module (the schemathesis test
# installs its pinned schemathesis into a venv of its own under .tmp/). The tests start their own
# instances on free ports, so the system services the packages enable are stopped. Idempotent; needs root or sudo for
# apt-get. Run by .ci/run before the integration suite.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if command -v prometheus-alertmanager >/dev/null 2>&1 || [ -x /usr/bin/prometheus-alertmanager ]; then
  echo "alertmanager: present"
else
  echo "alertmanager: installing (apt-get install prometheus-alertmanager)"
  apt_install --no-install-recommends prometheus-alertmanager
  $SUDO systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
fi
echo "alertmanager: $(/usr/bin/prometheus-alertmanager --version 2>&1 | head -1)"

have_postgres() {
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1
}
if have_postgres && id -u postgres >/dev/null 2>&1; then
  echo "postgresql: present"
else
  echo "postgresql: installing (apt-get install postgresql)"
  apt_install postgresql
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

if python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "python3-venv: present"
else
  echo "python3-venv: installing (apt-get install python3-venv)"
  apt_install python3-venv
fi
