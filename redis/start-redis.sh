#!/bin/sh
# Entrypoint of the bus Redis in docker-compose.yml: renders the users file with the agents'
# passwords (render-acl.sh), then starts redis-server with --aclfile and the given arguments,
# through the image's own docker-entrypoint.sh when there is one (it drops root to the redis user).
#
#   entrypoint: ["sh", "/etc/ghost-redis/start-redis.sh"]
#   command: ["--appendonly", "yes", ...]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
acl=${REDIS_ACL_OUT:-/tmp/ghost-users.acl}
sh "$here/render-acl.sh" "${REDIS_ACL_IN:-$here/users.acl}" "$acl"
# The rendered file is 0600; Redis must be able to read it once it runs as its own user.
if [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1; then chown redis "$acl"; fi

if command -v docker-entrypoint.sh >/dev/null 2>&1; then
  exec docker-entrypoint.sh redis-server --aclfile "$acl" "$@"
fi
exec redis-server --aclfile "$acl" "$@"
