#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run): test environment, dependencies, the whole
# test suite (typecheck, lint, unit and integration tests), then the compose smoke.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/test-env.sh

# npm ci only when node_modules is missing or package-lock.json changed since the last install.
# The hash stamp lives inside node_modules, so it goes with it; without a stamp, npm's own hidden
# lockfile (written by every install) being newer than package-lock.json counts as up to date.
stamp=node_modules/.helm-package-lock.sha256
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -d node_modules ]]; then
  need_ci='node_modules is missing'
elif [[ -f $stamp ]]; then
  [[ $(cat "$stamp") == "$lock_hash" ]] && need_ci='' || need_ci='package-lock.json changed'
elif [[ node_modules/.package-lock.json -nt package-lock.json ]]; then
  need_ci=''
  printf '%s\n' "$lock_hash" >"$stamp"
else
  need_ci='package-lock.json is newer than the last install'
fi
if [[ -z $need_ci ]]; then
  echo "npm ci: skipped (node_modules matches package-lock.json)"
else
  echo "npm ci: running ($need_ci)"
  start=$(date +%s)
  npm ci --no-audit --no-fund
  printf '%s\n' "$lock_hash" >"$stamp"
  echo "npm ci: done in $(($(date +%s) - start)) s"
fi

npm test
bash scripts/compose-smoke.sh
