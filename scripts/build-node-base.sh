#!/usr/bin/env bash
# Builds helm-local/node:20 FROM scratch out of the host's Node 20 and npm (context:
# test/images/node-base/), so Helm's Dockerfile builds with `--build-arg BASE_IMAGE=helm-local/node:20`
# on machines that cannot pull node:20-bookworm-slim. Rebuilt only when the staged files change.
#
# npm inside the image reaches the registry as the host's does: the host's CA bundle
# (/etc/ssl/certs/ca-certificates.crt) and global npmrc files (/etc/npmrc, /usr/etc/npmrc: the
# cafile setting) are copied in. /root/.npmrc is not: its settings here (audit, fund,
# update-notifier off, omit-lockfile-registry-resolved, nodedir) are per-user taste or host paths;
# Helm's Dockerfile sets what its build needs through NPM_CONFIG_* instead.
#
# Env: HELM_NODE_BASE_IMAGE (helm-local/node:20), HELM_NODE (the node binary: $(command -v node)).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
helm_tmp_init

tag=${HELM_NODE_BASE_IMAGE:-helm-local/node:20}
node_bin=$(readlink -f "${HELM_NODE:-$(command -v node)}")
[[ -x $node_bin ]] || die "node not found"
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[[ $node_major == 20 ]] || say "WARNING: host node is v$node_major, the image is tagged $tag"
docker_answers || die "no Docker engine answers on $HELM_DOCKER_SOCK: run scripts/test-env.sh first"

# npm: /usr/bin/npm is a symlink to <npm>/bin/npm-cli.js; the package root is two levels up.
npm_cli=$(readlink -f "$(command -v npm)")
npm_root=$(dirname "$(dirname "$npm_cli")")
[[ -f $npm_root/package.json && $(basename "$npm_root") == npm ]] || die "cannot find npm's package dir ($npm_cli)"
[[ -x /bin/busybox ]] || die "/bin/busybox missing (apt-get install busybox-static)"

ctx=$(helm_tmp)/node-base
rootfs=$ctx/rootfs
mkdir -p "$ctx"
cp -R "$HELM_REPO_ROOT/test/images/node-base/." "$ctx/"
stage_with_libs "$rootfs" "$node_bin"
if [[ $node_bin != /usr/bin/node ]]; then
  mkdir -p "$rootfs/usr/bin"
  cp -L "$node_bin" "$rootfs/usr/bin/node"
fi
mkdir -p "$rootfs/usr/lib/node_modules" "$rootfs/bin" "$rootfs/etc/ssl/certs" "$rootfs/usr/etc"
cp -R "$npm_root" "$rootfs/usr/lib/node_modules/npm"
for tool in npm npx; do
  printf '#!/bin/sh\nexec /usr/bin/node /usr/lib/node_modules/npm/bin/%s-cli.js "$@"\n' "$tool" >"$rootfs/usr/bin/$tool"
  chmod 0755 "$rootfs/usr/bin/$tool"
done
cp -L /bin/busybox "$rootfs/bin/busybox"
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
for npmrc in /etc/npmrc /usr/etc/npmrc; do
  [[ ! -f $npmrc ]] || cp -L "$npmrc" "$rootfs$npmrc"
done
[[ ! -f /etc/nsswitch.conf ]] || cp -L /etc/nsswitch.conf "$rootfs/etc/nsswitch.conf"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

ensure_image "$tag" "$ctx" --network=none
