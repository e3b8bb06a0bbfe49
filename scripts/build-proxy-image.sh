#!/usr/bin/env bash
# Builds Ghost's front proxy image (caddy/Dockerfile) FROM scratch out of the host's Debian caddy
# package (installed here with apt when missing), so docker-compose.yml's proxy service needs no
# registry. Rebuilt only when the staged files change.
#
# Env: HELM_PROXY_IMAGE (ghost/caddy:latest), the tag docker-compose.yml runs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
helm_tmp_init

tag=${HELM_PROXY_IMAGE:-ghost/caddy:latest}
docker_answers || die "no Docker engine answers on $HELM_DOCKER_SOCK: run scripts/test-env.sh first"
if ! pkg_installed caddy; then
  require_root
  ensure_packages caddy
fi
[[ -x /bin/busybox ]] || die "/bin/busybox missing (apt-get install busybox-static)"

ctx=$(helm_tmp)/proxy
rootfs=$ctx/rootfs
mkdir -p "$ctx"
cp "$HELM_REPO_ROOT/caddy/Dockerfile" "$ctx/Dockerfile"
stage_with_libs "$rootfs" /usr/bin/caddy
mkdir -p "$rootfs/bin" "$rootfs/etc/ssl/certs" "$rootfs/data" "$rootfs/tmp"
cp -L /bin/busybox "$rootfs/bin/busybox"
# busybox applets for start-proxy.sh: sh, sed; wget for the compose health check.
for applet in sh sed wget; do ln -s busybox "$rootfs/bin/$applet"; done
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/data:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

ensure_image "$tag" "$ctx" --network=none
