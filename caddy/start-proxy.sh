#!/bin/sh
# Entrypoint of Ghost's front proxy in docker-compose.yml (busybox sh in caddy/Dockerfile's image).
# Caddy 2.6 takes its admin address from the config only, so it is put in here, from
# HELM_PROXY_ADMIN_LISTEN (127.0.0.1:2019; loopback only: the admin API changes what the proxy
# serves, with no authentication). The starting config is caddy.json beside this file (the owner's
# servers and routes; its first line must be "{"). --resume: after a restart Caddy loads its
# autosaved config (Helm's routes included) from the volume; the admin address is set there too.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
admin=${HELM_PROXY_ADMIN_LISTEN:-127.0.0.1:2019}
case $admin in
  127.0.0.1:* | localhost:* | '[::1]':*) ;;
  *)
    echo "start-proxy: HELM_PROXY_ADMIN_LISTEN=$admin is not a loopback address; refusing to start" >&2
    exit 1
    ;;
esac
config=/tmp/ghost-proxy.json
sed "1s/^{/{\"admin\":{\"listen\":\"$admin\"},/" "$here/caddy.json" >"$config"
autosave=${XDG_CONFIG_HOME:-$HOME/.config}/caddy/autosave.json
if [ -f "$autosave" ]; then
  sed -i "s/\"admin\":{\"listen\":\"[^\"]*\"/\"admin\":{\"listen\":\"$admin\"/" "$autosave"
fi
exec /usr/bin/caddy run --resume --config "$config"
