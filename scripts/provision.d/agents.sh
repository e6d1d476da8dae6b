#!/usr/bin/env bash
# The example agents' Python dependencies (examples/agents/python), pinned, added to the venv of
# the Python OpenFeature SDK that scripts/provision-test-services.sh creates
# (.test-services/openfeature-venv, with openfeature-sdk, openfeature-provider-ofrep and
# cryptography): the MCP client SDK (`mcp`) and OpenTelemetry's SDK with its OTLP/HTTP exporter.
# test/integration/kill-switch-agents.test.ts runs the Python agent with this venv. Idempotent.
set -euo pipefail

VENV="$(cd "$(dirname "$0")/../.." && pwd)/.test-services/openfeature-venv"
PKGS=("mcp==1.30.0" "opentelemetry-sdk==1.45.2" "opentelemetry-exporter-otlp-proto-http==1.45.2")
present() {
  "$VENV/bin/python" - "${PKGS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if all(version(n) == v for n, v in (p.split("==") for p in sys.argv[1:])) else 1)
PY
}
if [ ! -x "$VENV/bin/python" ]; then
  echo "agents (python): no venv at $VENV; scripts/provision-test-services.sh creates it first" >&2
  exit 1
fi
if present; then
  echo "agents (python): present"
else
  echo "agents (python): installing ${PKGS[*]} into $VENV"
  "$VENV/bin/pip" install --quiet "${PKGS[@]}"
  present || { echo "agents (python): $VENV does not hold ${PKGS[*]} after install" >&2; exit 1; }
fi
