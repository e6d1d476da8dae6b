#!/usr/bin/env bash
# Installs the local services the integration tests (npm run test:integration) start on loopback:
# Prometheus Alertmanager from Debian's package. Idempotent; needs root or sudo for apt-get.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v prometheus-alertmanager >/dev/null 2>&1 && [ ! -x /usr/bin/prometheus-alertmanager ]; then
  echo "installing prometheus-alertmanager" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus-alertmanager
  # The package enables a system service; the tests start their own instance on free ports.
  $SUDO systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
fi
/usr/bin/prometheus-alertmanager --version 2>&1 | head -1
