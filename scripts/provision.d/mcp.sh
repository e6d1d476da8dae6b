#!/usr/bin/env bash
# The example MCP tool server (examples/mcp-server/server.py) for the MCP gateway connector's
# integration tests: a venv at <repo>/.test-services/mcp-venv with the pinned requirements of
# examples/mcp-server/requirements.txt (PyPI `mcp` and its dependencies). The tests start the
# server on a free loopback port. Idempotent: skips when the venv holds exactly the pinned `mcp`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$ROOT/.test-services/mcp-venv"
REQS="$ROOT/examples/mcp-server/requirements.txt"
MCP_PIN="$(grep -E '^mcp==' "$REQS")"

mcp_present() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$MCP_PIN" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
name, pinned = sys.argv[1].split("==")
sys.exit(0 if version(name) == pinned else 1)
PY
}

if mcp_present; then
  echo "mcp server (python): present ($MCP_PIN)"
  exit 0
fi
echo "mcp server (python): installing $REQS into $VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet -r "$REQS"
mcp_present || { echo "mcp server (python): $VENV does not hold $MCP_PIN after install" >&2; exit 1; }
