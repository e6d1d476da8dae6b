#!/usr/bin/env bash
# Open Policy Agent for the OPA connector's integration tests (test/integration/opa.test.ts): builds
# the pinned Go module with `go install` into <repo>/.test-services/opa/bin. The tests start their
# own `opa run --server` on a free loopback port with policies/firebreak.rego loaded. Idempotent:
# skips when that binary exists and reports the pinned version. Needs Go (1.24 or later) and the Go
# module proxy; the build takes about a minute on two cores.
set -euo pipefail

OPA_VERSION="1.22.3"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN_DIR="$ROOT/.test-services/opa/bin"
OPA="$BIN_DIR/opa"

opa_present() {
  [ -x "$OPA" ] && "$OPA" version 2>/dev/null | grep -qx "Version: $OPA_VERSION"
}

if opa_present; then
  echo "opa: present ($OPA_VERSION)"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  echo "opa: Go is not on PATH; install Go 1.24 or later (https://go.dev/dl/), then run this script again" >&2
  exit 1
}

echo "opa: building github.com/open-policy-agent/opa@v$OPA_VERSION into $BIN_DIR (go install)"
mkdir -p "$BIN_DIR"
start=$(date +%s)
GOBIN="$BIN_DIR" CGO_ENABLED=0 go install "github.com/open-policy-agent/opa@v$OPA_VERSION"
echo "opa: built in $(($(date +%s) - start)) s"
opa_present || {
  echo "opa: $OPA does not report version $OPA_VERSION after the build" >&2
  exit 1
}
