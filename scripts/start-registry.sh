#!/usr/bin/env bash
# Starts Debian's docker-registry (distribution 2.8) on 127.0.0.1:PORT with its config and storage
# in a scratch folder, optionally with htpasswd (bcrypt) auth. Idempotent: a registry already
# answering on the port with the same auth mode is reported and left alone.
#
#   scripts/start-registry.sh [--port N] [--dir DIR] [--user NAME --password PW]
#   scripts/start-registry.sh --stop [--port N] [--dir DIR]
#
# Port: --port, else $HELM_REGISTRY_PORT, else $PORT, else 5000.
# Dir:  --dir, else $HELM_TEST_ENV_DIR/registry-PORT. It holds config.yml, htpasswd, data/,
#       registry.log and registry.pid.
# The engine pushes to and pulls from 127.0.0.1:PORT/... without TLS (loopback is an insecure
# registry by default). With auth: `docker login 127.0.0.1:PORT -u NAME --password-stdin`.
#
# htpasswd: docker-registry accepts bcrypt only, and Debian ships no bcrypt tool by default
# (apache2-utils is not installed; busybox mkpasswd knows des/md5/sha only; Python 3.13 drops the
# crypt module). perl is always there (perl-base) and its crypt() is glibc's libxcrypt, which does
# bcrypt for a "$2b$" salt, so that is what this script uses.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
helm_tmp_init

port=${HELM_REGISTRY_PORT:-${PORT:-5000}}
dir='' user='' password='' stop=''
while (($# > 0)); do
  case $1 in
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --password) password=$2; shift 2 ;;
    --stop) stop=1; shift ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ $port =~ ^[0-9]+$ ]] || die "bad port: $port"
dir=${dir:-$HELM_TEST_ENV_DIR/registry-$port}
[[ -z $user || -n $password ]] || die "--user needs --password"

# registry_status PORT: prints the HTTP status of GET /v2/ (200 open, 401 auth), or nothing.
registry_status() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
    IFS=" " read -r _ code _ <&3 && printf "%s\n" "$code"
  ' _ "$1" 2>/dev/null || true
}

if [[ -n $stop ]]; then
  pidfile=$dir/registry.pid
  if [[ -f $pidfile ]] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait_for 10 bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    say "registry 127.0.0.1:$port: stopped (pid $pid)"
  else
    say "registry 127.0.0.1:$port: not running (no live pid in $pidfile)"
  fi
  exit 0
fi

want=200
[[ -z $user ]] || want=401
status=$(registry_status "$port")
if [[ $status == 200 || $status == 401 ]]; then
  [[ $status == "$want" ]] ||
    die "a registry on 127.0.0.1:$port answers /v2/ with $status, not $want: its auth mode differs; use another port"
  say "registry 127.0.0.1:$port: already running (auth: ${user:+htpasswd user }${user:-none})"
  exit 0
fi
tcp_open "$port" && die "127.0.0.1:$port is taken by something that is not a registry"

command -v docker-registry >/dev/null || {
  require_root
  ensure_packages docker-registry
}

mkdir -p "$dir/data"
auth=''
if [[ -n $user ]]; then
  salt=$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9./' | head -c 22)
  hash=$(HELM_PW=$password HELM_SALT=$salt perl -e 'print crypt($ENV{HELM_PW}, q($2b$10$) . $ENV{HELM_SALT})')
  [[ $hash == '$2b$10$'* && ${#hash} -eq 60 ]] || die "perl crypt() did not produce a bcrypt hash (libxcrypt?)"
  printf '%s:%s\n' "$user" "$hash" >"$dir/htpasswd"
  chmod 0600 "$dir/htpasswd"
  auth="auth:
  htpasswd:
    realm: helm-test-registry
    path: $dir/htpasswd"
fi
cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: $(head -c 24 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')
  headers:
    X-Content-Type-Options: [nosniff]
$auth
EOF

setsid docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
pid=$!
printf '%s\n' "$pid" >"$dir/registry.pid"
registry_ready() { [[ $(registry_status "$port") == "$want" ]]; }
if ! wait_for 15 registry_ready; then
  tail -n 20 "$dir/registry.log" >&2 || true
  kill "$pid" 2>/dev/null || true
  die "docker-registry on 127.0.0.1:$port did not answer /v2/ with $want within 15 s (log: $dir/registry.log)"
fi
say "registry 127.0.0.1:$port: started (pid $pid, dir $dir, auth: ${user:+htpasswd user }${user:-none})"
