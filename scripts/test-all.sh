#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run): test environment, dependencies, the whole
# test suite (typecheck, lint, unit and integration tests), then the compose smoke.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/test-env.sh

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ensure_node_modules

npm test
bash scripts/compose-smoke.sh
