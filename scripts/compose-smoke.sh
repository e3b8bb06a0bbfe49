#!/usr/bin/env bash
# CI's compose check: Helm's real docker-compose.yml, built and brought up on this engine, answers
# a health_check sent through the bus.
#
#  1. test-env.sh (engine, test images) and build-node-base.sh (helm-local/node:20)
#  2. builds the Helm image from ./Dockerfile on that base (--network=host for npm ci)
#  3. compose up -d with Redis = helm-test/redis:1 on a free loopback port, a fresh queue prefix, and
#     the front proxy (scripts/build-proxy-image.sh) with its admin API on a free loopback port
#  4. starts helm-test/web:1 on the host network (label ghost.service=smoke-web)
#  5. scripts/smoke-request.ts sends health_check for smoke-web and waits for status "executed"
# Everything it started is removed at the end, on failure too (compose down -v, the web container).
#
# Env: HELM_SMOKE_HELM_IMAGE=<image> skips step 2 and uses that image (debugging);
#      HELM_SMOKE_KEEP=1 leaves everything up for a look (prints how to remove it);
#      HELM_SMOKE_TIMEOUT_MS (120000) for the request.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HELM_REPO_ROOT"
helm_tmp_init

rand=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
project=helm-smoke-$rand
web_name=helm-smoke-web-$rand
override=$(helm_tmp)/compose.smoke.yml
t0=$(now_ms)

phase() { say "compose-smoke: $*"; }
elapsed() { printf '%s ms' "$(($(now_ms) - $1))"; }

compose_smoke() { compose -p "$project" -f docker-compose.yml -f "$override" "$@"; }

cleanup() {
  local rc=$?
  if [[ ${HELM_SMOKE_KEEP:-0} == 1 ]]; then
    phase "left running (HELM_SMOKE_KEEP=1): docker-compose -p $project down -v; docker rm -f $web_name"
  else
    if [[ -f $override ]]; then
      compose_smoke down -v --remove-orphans -t 10 >"$(helm_tmp)/down.log" 2>&1 ||
        { phase "compose down failed:"; tail -n 20 "$(helm_tmp)/down.log" >&2; }
    fi
    docker rm -f "$web_name" >/dev/null 2>&1 || true
  fi
  helm_tmp_cleanup
  if ((rc == 0)); then
    phase "PASSED in $(elapsed "$t0")"
  else
    phase "FAILED (exit $rc) after $(elapsed "$t0")"
  fi
  exit "$rc"
}
trap cleanup EXIT

# --- 1. environment and base image ------------------------------------------------------------------
bash scripts/test-env.sh
bash scripts/build-node-base.sh

# A smoke that was killed (CI timeout, session stop) leaves its containers and volumes: remove those
# whose owner (helm.test-pid) is dead. Volumes still in use by a live smoke are not dangling.
while read -r id pid run; do
  [[ $run == helm-smoke-* ]] || continue
  if [[ -z $pid || $pid == '<no value>' ]] || ! kill -0 "$pid" 2>/dev/null; then
    docker rm -f "$id" >/dev/null 2>&1 && phase "removed stale container $id of $run"
  fi
done < <(docker ps -a --filter label=helm.test --format '{{.ID}} {{.Label "helm.test-pid"}} {{.Label "helm.test-run"}}')
for volume in $(docker volume ls -q --filter dangling=true --filter name=helm-smoke-); do
  docker volume rm "$volume" >/dev/null 2>&1 && phase "removed stale volume $volume"
done

# --- 2. Helm image ----------------------------------------------------------------------------------
export HELM_BASE_IMAGE=${HELM_BASE_IMAGE:-helm-local/node:20}
if [[ -n ${HELM_SMOKE_HELM_IMAGE:-} ]]; then
  export HELM_IMAGE=$HELM_SMOKE_HELM_IMAGE
  phase "helm image: using $HELM_IMAGE (HELM_SMOKE_HELM_IMAGE, not built)"
else
  export HELM_IMAGE=helm-local/helm:smoke
  start=$(now_ms)
  log=$(helm_tmp)/helm-build.log
  if ! docker_build --network=host --build-arg "BASE_IMAGE=$HELM_BASE_IMAGE" -t "$HELM_IMAGE" . >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "helm image: docker build failed (Dockerfile, BASE_IMAGE=$HELM_BASE_IMAGE)"
  fi
  phase "helm image $HELM_IMAGE: built in $(elapsed "$start")"
fi

# --- 3. compose up ----------------------------------------------------------------------------------
export HELM_PROXY_IMAGE=helm-local/caddy:smoke
bash scripts/build-proxy-image.sh
HELM_PROXY_ADMIN_PORT=$(free_port)
export HELM_PROXY_ADMIN_PORT
export HELM_REDIS_IMAGE=helm-test/redis:1
HELM_REDIS_PORT=$(free_port)
export HELM_REDIS_PORT
# The shipped ACL file is written for the default prefix; this Redis is the smoke's own.
export HELM_QUEUE_PREFIX=bull
REDIS_PASSWORD_HELM=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
REDIS_PASSWORD_FORGE=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
REDIS_PASSWORD_ADMIN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export REDIS_PASSWORD_HELM REDIS_PASSWORD_FORGE REDIS_PASSWORD_ADMIN
export LOG_LEVEL=${LOG_LEVEL:-info}
# Docker refuses an rslave bind of / where / is a private mount (as in this project's sandboxes).
if [[ $(findmnt -no PROPAGATION / 2>/dev/null || true) == private ]]; then
  export HELM_HOST_ROOT_MODE=ro
fi
# Test labels, so that an integration run's global setup sweeps what a crashed smoke left (and
# spares it while this script, helm.test-pid, lives).
cat >"$override" <<EOF
version: "2.4"
services:
  redis:
    labels:
      helm.test: "1"
      helm.test-run: $project
      helm.test-pid: "$$"
  helm:
    labels:
      helm.test: "1"
      helm.test-run: $project
      helm.test-pid: "$$"
  proxy:
    labels:
      helm.test: "1"
      helm.test-run: $project
      helm.test-pid: "$$"
EOF
start=$(now_ms)
log=$(helm_tmp)/up.log
if ! compose_smoke up -d --no-build >"$log" 2>&1; then
  cat "$log" >&2
  die "compose up failed"
fi
phase "compose up ($project, redis 127.0.0.1:$HELM_REDIS_PORT, prefix $HELM_QUEUE_PREFIX): done in $(elapsed "$start")"

redis_id=$(compose_smoke ps -q redis)
helm_id=$(compose_smoke ps -q helm)
proxy_id=$(compose_smoke ps -q proxy)
[[ -n $redis_id && -n $helm_id && -n $proxy_id ]] ||
  die "compose up did not create all three containers (redis '$redis_id', helm '$helm_id', proxy '$proxy_id')"
redis_ping "$HELM_REDIS_PORT" || die "redis on 127.0.0.1:$HELM_REDIS_PORT does not answer PING"
[[ $(REDISCLI_AUTH=$REDIS_PASSWORD_ADMIN timeout 3 redis-cli --user admin -h 127.0.0.1 -p "$HELM_REDIS_PORT" config get appendonly | sed -n 2p) == yes ]] ||
  die "compose redis runs without AOF"
phase "redis: answers on 127.0.0.1:$HELM_REDIS_PORT with appendonly=yes"

# The proxy: its admin API answers on loopback, and it carries the role Helm refuses to touch.
proxy_admin=http://127.0.0.1:$HELM_PROXY_ADMIN_PORT
proxy_answers() { http_ok "$proxy_admin/config/"; }
wait_for 30 proxy_answers || { docker logs --tail 30 "$proxy_id" >&2; die "proxy admin API at $proxy_admin does not answer"; }
[[ $(docker inspect -f '{{ index .Config.Labels "ghost.role" }}' "$proxy_id") == proxy ]] || die "proxy container lacks ghost.role=proxy"
phase "proxy: admin API answers at $proxy_admin (ghost.role=proxy)"

# Helm must come up and stay up (it exits on a Redis it refuses, or a bad config).
helm_state() { docker inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' "$helm_id"; }
start=$(now_ms)
stable_since=''
while :; do
  read -r status restarts exit_code < <(helm_state)
  if [[ $status == running && $restarts == 0 ]]; then
    stable_since=${stable_since:-$(now_ms)}
    (($(now_ms) - stable_since >= 3000)) && break
  else
    stable_since=''
    if [[ $status != created && ($status != running || $restarts != 0) ]]; then
      phase "helm container is $status (restarts $restarts, exit code $exit_code); its log:"
      docker logs --tail 60 "$helm_id" 2>&1 | sed 's/^/  helm| /' >&2
      die "helm container did not stay up"
    fi
  fi
  (($(now_ms) - start < 60000)) || die "helm container not running after 60 s (state $status)"
  sleep 0.5
done
phase "helm container: running for 3 s without restart"

# --- 4. a service for Helm to check -------------------------------------------------------------------
web_port=$(free_port)
docker run -d --init --network host --name "$web_name" -e "PORT=$web_port" \
  --label ghost.service=smoke-web --label "ghost.healthcheck=http://127.0.0.1:$web_port/health" \
  --label helm.test=1 --label "helm.test-run=$project" --label "helm.test-pid=$$" \
  helm-test/web:1 >/dev/null
web_healthy() { [[ $(docker inspect -f '{{.State.Health.Status}}' "$web_name" 2>/dev/null) == healthy ]]; }
wait_for 30 web_healthy || die "smoke web container did not turn healthy"
phase "smoke-web: healthy on 127.0.0.1:$web_port"

# --- 5. the request -----------------------------------------------------------------------------------
start=$(now_ms)
# The request goes in as Forge would: under Forge's own ACL user.
if ! REDIS_URL=redis://forge:$REDIS_PASSWORD_FORGE@127.0.0.1:$HELM_REDIS_PORT SMOKE_TARGET=smoke-web \
  SMOKE_TIMEOUT_MS=${HELM_SMOKE_TIMEOUT_MS:-120000} npx --no-install tsx scripts/smoke-request.ts; then
  phase "helm log (last 60 lines):"
  docker logs --tail 60 "$helm_id" 2>&1 | sed 's/^/  helm| /' >&2
  die "health_check through the bus did not come back executed"
fi
phase "health_check round trip: $(elapsed "$start")"
