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
in=${REDIS_ACL_IN:-$here/users.acl}
# users.acl is written for Redis 7.2+; 7.0 and 7.1 refuse its CLIENT SETINFO rule (which only 7.2's
# clients send), so it is dropped there.
version=$(redis-server --version | sed -n 's/.* v=\([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p')
if [ -n "$version" ] && [ "${version% *}" -eq 7 ] && [ "${version#* }" -lt 2 ]; then
  stripped=$(mktemp)
  sed 's/ +client|setinfo//g' "$in" >"$stripped"
  in=$stripped
fi
sh "$here/render-acl.sh" "$in" "$acl"
# The rendered file is 0600; Redis must be able to read it once it runs as its own user.
if [ "$(id -u)" = 0 ] && id redis >/dev/null 2>&1; then chown redis "$acl"; fi

if command -v docker-entrypoint.sh >/dev/null 2>&1; then
  exec docker-entrypoint.sh redis-server --aclfile "$acl" "$@"
fi
exec redis-server --aclfile "$acl" "$@"
