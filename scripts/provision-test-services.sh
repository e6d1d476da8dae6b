#!/usr/bin/env bash
# Installs, when missing, the local services that the integration tests (npm run test:integration)
# start on loopback: Prometheus Alertmanager and the PostgreSQL server binaries (Debian packages)
# and moto's server (`moto[server]` from PyPI), Python's venv module (the schemathesis test
# installs its pinned schemathesis into a venv of its own under .tmp/), and a venv with the Python
# OpenFeature SDK and OFREP provider (.test-services/openfeature-venv). The tests start their own
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

# The Python OpenFeature SDK and its OFREP provider (and `cryptography`, with which the runtime
# hook verifies status documents), pinned, in a venv of their own under .test-services/: the
# OFREP integration test runs test/integration/openfeature/ofrep-runtime.py with it.
OF_VENV="$(cd "$(dirname "$0")/.." && pwd)/.test-services/openfeature-venv"
OF_PKGS=("openfeature-sdk==0.10.0" "openfeature-provider-ofrep==0.3.0" "cryptography==50.0.2")
of_present() {
  "$OF_VENV/bin/python" - "${OF_PKGS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if all(version(n) == v for n, v in (p.split("==") for p in sys.argv[1:])) else 1)
PY
}
if of_present; then
  echo "openfeature (python): present"
else
  echo "openfeature (python): installing ${OF_PKGS[*]} into $OF_VENV"
  python3 -m venv "$OF_VENV"
  "$OF_VENV/bin/pip" install --quiet "${OF_PKGS[@]}"
  of_present || { echo "openfeature (python): $OF_VENV does not hold ${OF_PKGS[*]} after install" >&2; exit 1; }
fi

# Each further service has its own idempotent script in scripts/provision.d/ (one file per service,
# so they can be read and changed alone), run here in name order.
for script in "$(dirname "$0")"/provision.d/*.sh; do
  [ -e "$script" ] || continue
  bash "$script"
done
