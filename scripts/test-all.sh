#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run): test environment, dependencies, the whole
# test suite (typecheck, lint, unit and integration tests), then the compose smoke.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/test-env.sh

# npm ci only when node_modules is missing or package-lock.json changed since the last install
# here; the stamp lives inside node_modules, so it goes with it.
stamp=node_modules/.helm-package-lock.sha256
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -d node_modules && -f $stamp && $(cat "$stamp") == "$lock_hash" ]]; then
  echo "npm ci: skipped (node_modules matches package-lock.json)"
else
  start=$(date +%s)
  npm ci --no-audit --no-fund
  printf '%s\n' "$lock_hash" >"$stamp"
  echo "npm ci: done in $(($(date +%s) - start)) s"
fi

npm test
bash scripts/compose-smoke.sh
