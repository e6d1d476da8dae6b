#!/usr/bin/env bash
# Arize Phoenix (PyPI arize-phoenix, pinned), the OpenTelemetry trace store that the agent-trace
# evidence tests run: `phoenix serve` on SQLite, offline, on loopback (test/integration/phoenix.ts
# starts it). Installs into <repo>/.test-services/phoenix-venv. Idempotent. The install is large
# (about 300 MB of wheels); a fresh install took about 2-3 minutes here.
set -euo pipefail

PHOENIX_VENV="$(cd "$(dirname "$0")/../.." && pwd)/.test-services/phoenix-venv"
PHOENIX_VERSION="20.26.1"

phoenix_present() {
  "$PHOENIX_VENV/bin/python" - "$PHOENIX_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("arize-phoenix") == sys.argv[1] else 1)
PY
}

if phoenix_present; then
  echo "phoenix: present (arize-phoenix==$PHOENIX_VERSION in $PHOENIX_VENV)"
else
  echo "phoenix: installing arize-phoenix==$PHOENIX_VERSION into $PHOENIX_VENV"
  python3 -m venv "$PHOENIX_VENV"
  "$PHOENIX_VENV/bin/pip" install --quiet --upgrade pip
  "$PHOENIX_VENV/bin/pip" install --quiet "arize-phoenix==$PHOENIX_VERSION"
  phoenix_present || {
    echo "phoenix: $PHOENIX_VENV does not hold arize-phoenix==$PHOENIX_VERSION after install" >&2
    exit 1
  }
fi
