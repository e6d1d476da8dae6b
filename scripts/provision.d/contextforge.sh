#!/usr/bin/env bash
# IBM ContextForge, the MCP gateway the MCP gateway connector's integration tests run against
# (test/helpers/mcp-services.ts starts it on SQLite in a temp dir on a free loopback port): a
# venv at <repo>/.test-services/contextforge-venv with PyPI `mcp-contextforge-gateway`, pinned.
# Idempotent: skips when the venv holds the pinned version. The install is large (about 250 MB)
# and took about 3 minutes here; the first start of a fresh database takes about a minute more.
set -euo pipefail

CF_VERSION="1.0.7"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$ROOT/.test-services/contextforge-venv"

cf_present() {
  [ -x "$VENV/bin/mcpgateway" ] && "$VENV/bin/python" - "$CF_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("mcp-contextforge-gateway") == sys.argv[1] else 1)
PY
}

if cf_present; then
  echo "contextforge: present ($CF_VERSION)"
  exit 0
fi
echo "contextforge: installing mcp-contextforge-gateway==$CF_VERSION into $VENV"
start=$(date +%s)
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet "mcp-contextforge-gateway==$CF_VERSION"
echo "contextforge: installed in $(($(date +%s) - start)) s"
cf_present || { echo "contextforge: $VENV does not hold mcp-contextforge-gateway==$CF_VERSION after install" >&2; exit 1; }
