#!/usr/bin/env bash
# Debian's Chromium, which the console's browser test (test/integration/console.test.ts) drives
# through playwright-core (which downloads no browser of its own). Idempotent; needs root or sudo
# for apt-get. Run by scripts/provision-test-services.sh.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if command -v chromium >/dev/null 2>&1; then
  echo "chromium: present"
else
  echo "chromium: installing (apt-get install chromium)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
echo "chromium: $(chromium --version 2>&1 | head -1)"
