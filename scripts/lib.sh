# shellcheck shell=bash
# Shared shell functions for the test environment scripts (test-env.sh, start-registry.sh,
# build-node-base.sh, compose-smoke.sh). Source it; it defines functions and a few variables only.
#
# Everything here talks to 127.0.0.1 only; containers use host networking.

HELM_REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Machine-level state (dockerd log, the test redis dir, registries): the engine and the test redis
# serve every clone on this machine, so their state does not live in one work tree.
HELM_TEST_ENV_DIR=${HELM_TEST_ENV_DIR:-/var/lib/helm-test-env}
# The engine the tests use: DOCKER_HOST when it is a unix socket, else the default socket.
# A socket other than /var/run/docker.sock gets a dockerd with its own data, exec root and pidfile
# (a second engine beside the first; also how test-env.sh's cold start is tried without touching
# the machine's engine).
if [[ ${DOCKER_HOST:-} == unix://* ]]; then
  HELM_DOCKER_SOCK=${DOCKER_HOST#unix://}
else
  HELM_DOCKER_SOCK=/var/run/docker.sock
fi
export DOCKER_HOST=unix://$HELM_DOCKER_SOCK

say() { printf '%s\n' "$*"; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

require_root() {
  [[ $(id -u) -eq 0 ]] || die "$(basename "$0") must run as root (it installs packages and starts dockerd)"
}

# Milliseconds since the epoch, for "built in N ms" lines.
now_ms() { date +%s%3N; }

# --- temp dirs ----------------------------------------------------------------------------------
# All scratch space of one script run sits in one mktemp dir, removed on exit. helm_tmp_init must
# run in the script's main shell (not inside $(...)), so the EXIT trap sees HELM_TMP. Deletion is
# guarded: only the directory this process created with mktemp is ever removed.
HELM_TMP=''
helm_tmp_init() {
  [[ -z $HELM_TMP ]] || return 0
  HELM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/helm-test-env.XXXXXXXX")
  trap helm_tmp_cleanup EXIT
}
helm_tmp() {
  [[ -n $HELM_TMP ]] || die "internal: helm_tmp_init was not called"
  printf '%s\n' "$HELM_TMP"
}
helm_tmp_cleanup() {
  local dir=$HELM_TMP
  [[ -n $dir && -d $dir ]] || return 0
  case $dir in
    "${TMPDIR:-/tmp}"/helm-test-env.*) ;;
    *) return 0 ;;
  esac
  find "$dir" -mindepth 1 -depth -delete
  rmdir "$dir"
  HELM_TMP=''
}

# --- packages -----------------------------------------------------------------------------------
pkg_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == 'install ok installed' ]]
}

# ensure_packages PKG...: installs with apt only those missing; apt-get update only if needed.
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if pkg_installed "$pkg"; then
      say "$pkg: already installed"
    else
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]} > 0)) || return 0
  # Package postinst scripts would start redis-server/docker-registry on their packaged (all-address)
  # configs; a policy-rc.d that says 101 stops them, as in Docker images. Only ours is removed again.
  local policy=/usr/sbin/policy-rc.d made_policy=''
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    made_policy=1
  fi
  local rc=0
  export DEBIAN_FRONTEND=noninteractive
  local apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
  local log
  log=$(helm_tmp)/apt.log
  if ! apt-get "${apt_opts[@]}" update -qq >"$log" 2>&1; then
    rc=1
  elif ! apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    rc=1
  fi
  [[ -z $made_policy ]] || rm -f "$policy"
  if ((rc != 0)); then
    tail -n 30 "$log" >&2
    die "apt-get could not install: ${missing[*]}"
  fi
  for pkg in "${missing[@]}"; do
    pkg_installed "$pkg" || die "$pkg: apt-get finished but the package is not installed"
    say "$pkg: installed"
  done
}

# --- docker -------------------------------------------------------------------------------------
docker_answers() {
  timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# The engine is docker.io 20.10 and the client on PATH may be a newer CLI without buildx: the
# legacy builder works with both. Its deprecation notice goes to the build log. --force-rm: a failed
# RUN step would otherwise leave its container behind.
docker_build() {
  DOCKER_BUILDKIT=0 docker build --force-rm "$@"
}

image_label() { # image label -> value or empty
  docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# context_hash DIR [EXTRA...]: sha256 over every file (path + content + mode) in DIR plus EXTRA strings.
context_hash() {
  local dir=$1
  shift
  {
    (cd "$dir" && find . -type f -printf '%P %m\n' | LC_ALL=C sort)
    (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-32
}

# ensure_image TAG CONTEXT_DIR [docker build args...]: builds unless an image with the same
# content hash (label helm.build.context-hash) is already there. Prints one line.
ensure_image() {
  local tag=$1 ctx=$2
  shift 2
  local hash current start log
  hash=$(context_hash "$ctx" "$@")
  current=$(image_label "$tag" helm.build.context-hash)
  if [[ $current == "$hash" ]]; then
    say "image $tag: already built (context $hash)"
    return 0
  fi
  log="$(helm_tmp)/build-${tag//[^a-zA-Z0-9]/_}.log"
  start=$(now_ms)
  if ! docker_build --label "helm.build.context-hash=$hash" -t "$tag" "$@" "$ctx" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "image $tag: docker build failed (context $ctx)"
  fi
  say "image $tag: built in $(($(now_ms) - start)) ms (context $hash${current:+, was $current})"
}

# stage_with_libs DEST FILE...: copies each executable and every library ldd lists, keeping paths.
stage_with_libs() {
  local dest=$1 bin lib
  shift
  mkdir -p "$dest"
  for bin in "$@"; do
    [[ -x $bin ]] || die "$bin: not found or not executable"
    cp -L --parents "$bin" "$dest/"
    # ldd lines: "libx.so => /lib/.../libx.so (0x..)" or "/lib64/ld-linux-x86-64.so.2 (0x..)".
    while read -r lib; do
      [[ -n $lib ]] && cp -L --parents "$lib" "$dest/"
    done < <(ldd "$bin" | awk '/=> \// { print $3 } /^[[:space:]]*\// { print $1 }')
  done
}

# --- small network helpers (loopback only) --------------------------------------------------------
free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# tcp_open PORT: something accepts connections on 127.0.0.1:PORT.
tcp_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# http_ok URL: a GET answers 2xx within 3 s (node's fetch: curl is not on every image).
http_ok() {
  node -e "fetch(process.argv[1],{signal:AbortSignal.timeout(3000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$1"
}

redis_ping() { # PORT
  [[ $(timeout 3 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null || true) == PONG ]]
}

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds; fails after SECONDS.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# compose: Debian's docker-compose v1 or the v2 plugin, whichever is there (v1 preferred: it is
# what test-env.sh installs; set HELM_COMPOSE="docker compose" to force v2).
compose() {
  if [[ -n ${HELM_COMPOSE:-} ]]; then
    # shellcheck disable=SC2086
    $HELM_COMPOSE "$@"
  elif command -v docker-compose >/dev/null 2>&1; then
    docker-compose "$@"
  else
    docker compose "$@"
  fi
}

# --- engine -------------------------------------------------------------------------------------
# pid_alive PID: the process exists and is not a zombie (a killed daemon whose parent has not reaped
# it still answers kill -0).
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
  [[ $state != Z ]]
}

# ensure_engine: a Docker engine answers on $HELM_DOCKER_SOCK. Starts one only if none answers, and
# only an engine started here gets the bridge-disabled flags; a running engine is never touched.
# State (log, and for a second engine its data and exec root) goes under HELM_ENGINE_STATE_DIR.
HELM_ENGINE_STATE_DIR=${HELM_ENGINE_STATE_DIR:-$HELM_TEST_ENV_DIR}
ensure_engine() {
  if docker_answers; then
    say "dockerd: already running ($(docker version --format '{{.Server.Version}}') on $HELM_DOCKER_SOCK)"
    return 0
  fi
  local pidfile=/var/run/docker.pid extra=() state=$HELM_ENGINE_STATE_DIR
  if [[ $HELM_DOCKER_SOCK != /var/run/docker.sock ]]; then
    local name
    name=$(basename "$HELM_DOCKER_SOCK" .sock)
    state=$HELM_ENGINE_STATE_DIR/$name
    pidfile=$state/dockerd.pid
    # exec-root holds containerd's sockets: keep its path short (unix socket paths are limited).
    extra=(--data-root "$state/data" --exec-root "/var/run/helm-$name" --pidfile "$pidfile")
    mkdir -p "$state"
  fi
  local pid=''
  [[ -f $pidfile ]] && pid=$(cat "$pidfile" 2>/dev/null || true)
  if [[ -n $pid ]] && pid_alive "$pid"; then
    # Another dockerd is alive but not answering yet (starting, or another run started it).
    # Starting a second one on the same data root would fail; wait for it instead.
    if wait_for 60 docker_answers; then
      say "dockerd: already running (pid $pid, was starting)"
      return 0
    fi
    die "dockerd (pid $pid) is running but does not answer on $HELM_DOCKER_SOCK after 60 s; not touching it"
  fi
  command -v dockerd >/dev/null || die "dockerd not found although docker.io is installed"
  local log=$state/dockerd.log
  # Bridge, iptables and masquerading off: test containers use host networking on loopback ports,
  # and no container may get an address on a private network.
  setsid dockerd --host "unix://$HELM_DOCKER_SOCK" --bridge=none --iptables=false --ip-forward=false \
    --ip-masq=false "${extra[@]}" >>"$log" 2>&1 </dev/null &
  local started=$! start
  start=$(now_ms)
  if ! wait_for 60 docker_answers; then
    tail -n 30 "$log" >&2 || true
    if kill -0 "$started" 2>/dev/null; then
      die "dockerd (pid $started) started but does not answer on $HELM_DOCKER_SOCK after 60 s (log: $log)"
    fi
    die "dockerd exited during start-up (log: $log)"
  fi
  say "dockerd: started on $HELM_DOCKER_SOCK in $(($(now_ms) - start)) ms (pid $started, log $log)"
}

# --- front proxy ------------------------------------------------------------------------------
# ensure_tcp_migrate_req: net.ipv4.tcp_migrate_req=1. Caddy 2.6 (Debian's) binds a fresh listening
# socket with SO_REUSEPORT on every config change (an upstream switch included) and closes the old
# one; without this setting the kernel resets the connections still waiting in the old socket's
# accept queue (measured: about one failed request per two switches under a request loop), with it
# they move to the new socket. Affects only SO_REUSEPORT listeners being closed; needs Linux 5.14+.
ensure_tcp_migrate_req() {
  local knob=/proc/sys/net/ipv4/tcp_migrate_req
  if [[ ! -e $knob ]]; then
    say "WARNING: $knob is missing (Linux < 5.14): a proxy config change may reset waiting connections"
  elif [[ $(cat "$knob") == 1 ]]; then
    say "net.ipv4.tcp_migrate_req: already 1"
  else
    echo 1 >"$knob" || die "could not set net.ipv4.tcp_migrate_req=1"
    say "net.ipv4.tcp_migrate_req: set to 1 (connections queued on a closing proxy listener move to the new one)"
  fi
}

# --- npm ----------------------------------------------------------------------------------------
# ensure_node_modules: npm ci only when node_modules is missing or package-lock.json changed since
# the last install.
ensure_node_modules() {
  local stamp lock_hash need_ci start
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
    say "npm ci: skipped (node_modules matches package-lock.json)"
  else
    say "npm ci: running ($need_ci)"
    start=$(date +%s)
    npm ci --no-audit --no-fund
    printf '%s\n' "$lock_hash" >"$stamp"
    say "npm ci: done in $(($(date +%s) - start)) s"
  fi
}
