#!/usr/bin/env bash
# Brings up what the integration tests need, idempotently, as root on Debian 12:
#   - apt packages: redis-server, docker.io, busybox-static, docker-compose, docker-registry, caddy,
#     chromium
#   - net.ipv4.tcp_migrate_req=1 (lib.sh, ensure_tcp_migrate_req: the proxy's config changes)
#   - a Docker engine on /var/run/docker.sock (bridge disabled), unless one already answers
#   - the test redis-server on 127.0.0.1:${HELM_TEST_REDIS_PORT:-6399} (AOF, noeviction), unless
#     something already answers PING there
#   - the local test images helm-test/web:1, helm-test/web:2, helm-test/redis:1 (FROM scratch,
#     rebuilt only when their staged build context changed)
# Prints one line per thing it did or found already there. Never reconfigures or restarts an engine
# or a redis that already answers.
#
#   - a second Docker engine for the multi-host tests (issue 13) on $HELM_TEST_DOCKER_B_SOCK
#     (/run/helm-test-docker-b.sock; its own data root, exec root and pidfile, bridge disabled like
#     the first), holding the same test images (copied from the first engine, same image IDs)
# Env: HELM_TEST_REDIS_PORT (6399), HELM_TEST_ENV_DIR (/var/lib/helm-test-env), HELM_SKIP_IMAGES=1,
#      DOCKER_HOST=unix:///other.sock (manage/start a second engine there instead, own data root),
#      HELM_TEST_DOCKER_B_SOCK (the second engine's socket), HELM_SKIP_ENGINE_B=1 (no second engine).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
helm_tmp_init

require_root
mkdir -p "$HELM_TEST_ENV_DIR"

# --- packages ---------------------------------------------------------------------------------------
# caddy: the front proxy of the zero-downtime tests (test/helpers/caddy.ts starts one per test file);
# its postinst does not start the packaged service (policy-rc.d, see ensure_packages).
ensure_packages redis-server docker.io busybox-static docker-compose docker-registry caddy
# Debian's chromium for the status page's browser test (playwright-core drives /usr/bin/chromium);
# installed only when that binary is missing (the package name alone may differ on other images).
if [[ -x /usr/bin/chromium ]]; then say "chromium: already installed"; else ensure_packages chromium; fi

ensure_tcp_migrate_req

# --- docker engine ----------------------------------------------------------------------------------
ensure_engine

# --- test redis -------------------------------------------------------------------------------------
ensure_test_redis() {
  local port=${HELM_TEST_REDIS_PORT:-6399}
  local start
  start=$(now_ms)
  if redis_ping "$port"; then
    local aof policy
    aof=$(timeout 3 redis-cli -h 127.0.0.1 -p "$port" config get appendonly | sed -n 2p)
    policy=$(timeout 3 redis-cli -h 127.0.0.1 -p "$port" config get maxmemory-policy | sed -n 2p)
    say "redis-server 127.0.0.1:$port: already running (appendonly=$aof, maxmemory-policy=$policy)"
    if [[ $aof != yes || $policy != noeviction ]]; then
      say "WARNING: redis on 127.0.0.1:$port is not appendonly=yes/noeviction; Helm refuses such a Redis." \
        "Left as it is; stop it or set HELM_TEST_REDIS_PORT to use another port."
    fi
    return 0
  fi
  if tcp_open "$port"; then
    die "127.0.0.1:$port is taken by something that does not answer Redis PING; set HELM_TEST_REDIS_PORT"
  fi
  local dir=$HELM_TEST_ENV_DIR/redis-$port
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes --appendfsync everysec \
    --maxmemory-policy noeviction --save '' --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" || die "redis-server did not start (log: $dir/redis.log)"
  if ! wait_for 15 redis_ping "$port"; then
    tail -n 20 "$dir/redis.log" >&2 || true
    die "redis-server on 127.0.0.1:$port does not answer PING after 15 s (log: $dir/redis.log)"
  fi
  say "redis-server 127.0.0.1:$port: started in $(($(now_ms) - start)) ms (dir $dir)"
}
ensure_test_redis

# --- test images ------------------------------------------------------------------------------------
build_test_images() {
  local images=$HELM_REPO_ROOT/test/images tmp busybox=/bin/busybox
  [[ -x $busybox ]] && ! ldd "$busybox" >/dev/null 2>&1 || die "$busybox is missing or not static (busybox-static)"
  tmp=$(helm_tmp)

  # web: the repo's context plus the static busybox, one staged copy for both versions.
  mkdir -p "$tmp/web"
  cp -R "$images/web/." "$tmp/web/"
  cp -L "$busybox" "$tmp/web/busybox"
  local version
  for version in 1 2; do
    ensure_image "helm-test/web:$version" "$tmp/web" --network=none --build-arg "WEB_VERSION=$version"
  done

  # redis: the host's redis-server and redis-cli with their libraries, and busybox for sh.
  mkdir -p "$tmp/redis"
  cp -R "$images/redis/." "$tmp/redis/"
  # cp -L keeps the names: Debian's /usr/bin/redis-server is a symlink to redis-check-rdb (one
  # binary that looks at argv[0]).
  stage_with_libs "$tmp/redis/rootfs" "$(command -v redis-server)" "$(command -v redis-cli)"
  mkdir -p "$tmp/redis/rootfs/bin"
  cp -L "$busybox" "$tmp/redis/rootfs/bin/busybox"
  ensure_image helm-test/redis:1 "$tmp/redis" --network=none
}

# --- executor test images (test/integration/executor) -------------------------------------------------
# helm-test/web-faulty:crash-now|crash-later|unhealthy, helm-test/web-relabel:1,
# helm-test/worker:1|2|3 (3 exits at start as replica 2).
build_executor_test_images() {
  local images=$HELM_REPO_ROOT/test/images tmp name fault
  tmp=$(helm_tmp)
  for name in web-faulty web-relabel worker; do
    mkdir -p "$tmp/$name"
    cp -R "$images/$name/." "$tmp/$name/"
    cp -L /bin/busybox "$tmp/$name/busybox"
  done
  for fault in crash-now crash-later unhealthy; do
    ensure_image "helm-test/web-faulty:$fault" "$tmp/web-faulty" --network=none --build-arg "FAULT=$fault"
  done
  ensure_image helm-test/web-relabel:1 "$tmp/web-relabel" --network=none
  ensure_image helm-test/worker:1 "$tmp/worker" --network=none --build-arg WORKER_VERSION=1
  ensure_image helm-test/worker:2 "$tmp/worker" --network=none --build-arg WORKER_VERSION=2
  ensure_image helm-test/worker:3 "$tmp/worker" --network=none --build-arg WORKER_VERSION=3 --build-arg FAIL_REPLICA=2
}

if [[ ${HELM_SKIP_IMAGES:-0} == 1 ]]; then
  say "test images: skipped (HELM_SKIP_IMAGES=1)"
else
  build_test_images
  build_executor_test_images
fi

# --- the second engine (test/helpers/engine-b.ts) ---------------------------------------------------
# Another host's Docker for the multi-host tests: a dockerd of its own beside the first (ensure_engine
# gives a socket other than /var/run/docker.sock its own data root, exec root and pidfile). The test
# images are copied from the first engine with docker save/load, so both engines hold the same image
# IDs; a tag already on the same ID there is left alone.
TEST_IMAGES=(helm-test/web:1 helm-test/web:2 helm-test/redis:1 helm-test/web-faulty:crash-now
  helm-test/web-faulty:crash-later helm-test/web-faulty:unhealthy helm-test/web-relabel:1
  helm-test/worker:1 helm-test/worker:2 helm-test/worker:3)
image_id_on() { # SOCKET TAG -> image ID or empty
  DOCKER_HOST=unix://$1 docker image inspect -f '{{.Id}}' "$2" 2>/dev/null || true
}
ensure_second_engine() {
  local sock=${HELM_TEST_DOCKER_B_SOCK:-/run/helm-test-docker-b.sock} first=$HELM_DOCKER_SOCK
  [[ $sock != "$first" ]] || die "HELM_TEST_DOCKER_B_SOCK ($sock) is the first engine's socket"
  (
    HELM_DOCKER_SOCK=$sock
    export DOCKER_HOST=unix://$sock
    ensure_engine
  )
  [[ ${HELM_SKIP_IMAGES:-0} == 1 ]] && return 0
  local tag missing=()
  for tag in "${TEST_IMAGES[@]}"; do
    local id
    id=$(image_id_on "$first" "$tag")
    [[ -n $id ]] || die "image $tag: not on the first engine ($first)"
    [[ $(image_id_on "$sock" "$tag") == "$id" ]] || missing+=("$tag")
  done
  if ((${#missing[@]} == 0)); then
    say "second engine $sock: test images already there"
    return 0
  fi
  local start
  start=$(now_ms)
  DOCKER_HOST=unix://$first docker save "${missing[@]}" | DOCKER_HOST=unix://$sock docker load -q >/dev/null ||
    die "could not copy the test images to the second engine ($sock)"
  say "second engine $sock: copied ${#missing[@]} test images in $(($(now_ms) - start)) ms"
}
if [[ ${HELM_SKIP_ENGINE_B:-0} == 1 ]]; then
  say "second engine: skipped (HELM_SKIP_ENGINE_B=1)"
else
  ensure_second_engine
fi
