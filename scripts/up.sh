#!/usr/bin/env bash
# The README's first command: bring up what Helm needs where it is missing, then run Helm.
#   - apt packages redis-server and docker.io, only when missing
#   - a Docker engine, only if none answers (an engine started here gets the bridge-disabled flags;
#     an engine that was already there is never reconfigured)
#   - a Redis at REDIS_URL (default 127.0.0.1:6379) with AOF and noeviction, only if none answers
#   - the front proxy (Debian's caddy) with its admin API at HELM_PROXY_ADMIN (default
#     http://127.0.0.1:2019), only if nothing answers there; config caddy/caddy.json, autosave and
#     certificates under HELM_STATE_DIR/caddy, restarted with --resume (Helm's routes survive);
#     and net.ipv4.tcp_migrate_req=1 (lib.sh says why)
#   - npm packages and Helm's build, only when out of date
# then runs Helm in the foreground (Ctrl-C or SIGTERM stops it cleanly).
set -euo pipefail

# State of what this script starts (dockerd's log, Redis's data) lives here, not in the work tree.
HELM_STATE_DIR=${HELM_STATE_DIR:-/var/lib/helm}
HELM_ENGINE_STATE_DIR=${HELM_ENGINE_STATE_DIR:-$HELM_STATE_DIR}
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
helm_tmp_init
cd "$HELM_REPO_ROOT"
require_root

REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
export REDIS_URL
mkdir -p "$HELM_STATE_DIR"

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v caddy >/dev/null || need+=(caddy)
if ! docker_answers && ! command -v dockerd >/dev/null; then need+=(docker.io); fi
if ((${#need[@]} > 0)); then ensure_packages "${need[@]}"; else say "packages: nothing to install"; fi

ensure_engine

# Redis: only a local one on a loopback port is started here; a remote REDIS_URL must already answer.
redis_hostport=${REDIS_URL#*://}
redis_hostport=${redis_hostport#*@}
redis_hostport=${redis_hostport%%/*}
redis_host=${redis_hostport%%:*}
redis_port=${redis_hostport##*:}
[[ $redis_port == "$redis_hostport" ]] && redis_port=6379
if [[ $(timeout 3 redis-cli -u "$REDIS_URL" ping 2>/dev/null || true) == PONG ]]; then
  say "redis: already answering at $redis_host:$redis_port (Helm checks its AOF and eviction policy at start)"
elif [[ $redis_host == 127.0.0.1 || $redis_host == localhost ]]; then
  dir=$HELM_STATE_DIR/redis-$redis_port
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir" --appendonly yes --appendfsync everysec \
    --maxmemory-policy noeviction --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" ||
    die "redis-server did not start (log: $dir/redis.log)"
  wait_for 15 redis_ping "$redis_port" || die "redis-server on 127.0.0.1:$redis_port does not answer (log: $dir/redis.log)"
  say "redis: started on 127.0.0.1:$redis_port with AOF and noeviction (data in $dir)"
else
  die "Redis at $redis_host:$redis_port does not answer, and it is not local: start it, or unset REDIS_URL"
fi

ensure_tcp_migrate_req
# Front proxy: started here only on a loopback admin address where nothing answers.
HELM_PROXY_ADMIN=${HELM_PROXY_ADMIN:-http://127.0.0.1:2019}
export HELM_PROXY_ADMIN
proxy_listen=${HELM_PROXY_ADMIN#http://}
proxy_listen=${proxy_listen%%/*}
if http_ok "$HELM_PROXY_ADMIN/config/"; then
  say "proxy: already answering at $HELM_PROXY_ADMIN"
elif [[ $proxy_listen == 127.0.0.1:* ]]; then
  dir=$HELM_STATE_DIR/caddy
  mkdir -p "$dir"
  sed "1s/^{/{\"admin\":{\"listen\":\"$proxy_listen\"},/" caddy/caddy.json >"$dir/start.json"
  HOME=$dir XDG_CONFIG_HOME=$dir/config XDG_DATA_HOME=$dir/data setsid caddy run --resume \
    --config "$dir/start.json" --pidfile "$dir/caddy.pid" >>"$dir/caddy.log" 2>&1 </dev/null &
  wait_for 15 http_ok "$HELM_PROXY_ADMIN/config/" || die "caddy's admin API at $HELM_PROXY_ADMIN does not answer (log: $dir/caddy.log)"
  say "proxy: caddy started, admin API at $HELM_PROXY_ADMIN (state in $dir)"
else
  die "the proxy's admin API at $HELM_PROXY_ADMIN does not answer, and it is not on 127.0.0.1: start it, or unset HELM_PROXY_ADMIN"
fi

ensure_node_modules
if [[ ! -f dist/src/main.js ]] || [[ -n $(find src workers package-lock.json tsconfig.json tsconfig.build.json -newer dist/src/main.js -print -quit) ]]; then
  npm run --silent build
  say "helm: built into dist/"
else
  say "helm: build is up to date"
fi

say "helm: starting (REDIS_URL=$REDIS_URL, memory ${HELM_MEMORY_DIR:-./memory}); stop with Ctrl-C"
exec node dist/src/main.js
