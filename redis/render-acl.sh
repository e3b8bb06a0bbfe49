#!/bin/sh
# Renders the ACL users file Redis loads: copies IN to OUT, appending to each user's line the SHA-256
# hash of its password, taken from REDIS_PASSWORD_<USER> or from the file named by
# REDIS_PASSWORD_<USER>_FILE (a Docker secret). A user without a password stays unable to log in.
# POSIX sh with sha256sum: runs in redis:7-alpine (busybox) and on Debian alike.
#
#   sh redis/render-acl.sh redis/users.acl /tmp/users.acl && redis-server --aclfile /tmp/users.acl
set -eu

in=${1:?usage: render-acl.sh IN OUT}
out=${2:?usage: render-acl.sh IN OUT}
min_length=${REDIS_PASSWORD_MIN_LENGTH:-24}

umask 077
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
: >"$tmp"

while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
  'user '*) ;;
  *)
    printf '%s\n' "$line" >>"$tmp"
    continue
    ;;
  esac
  user=$(printf '%s\n' "$line" | cut -d' ' -f2)
  case "$user" in
  '' | *[!a-z0-9_]*)
    echo "render-acl: user name \"$user\" is not [a-z0-9_]+" >&2
    exit 1
    ;;
  esac
  if [ "$user" = default ]; then
    printf '%s\n' "$line" >>"$tmp"
    continue
  fi
  var=REDIS_PASSWORD_$(printf '%s' "$user" | tr 'a-z' 'A-Z')
  eval "password=\${$var-}"
  eval "password_file=\${${var}_FILE-}"
  if [ -z "$password" ] && [ -n "$password_file" ]; then
    [ -r "$password_file" ] || {
      echo "render-acl: $var""_FILE: cannot read $password_file" >&2
      exit 1
    }
    password=$(cat "$password_file")
  fi
  if [ -z "$password" ]; then
    echo "render-acl: no $var: user $user cannot log in" >&2
    printf '%s\n' "$line" >>"$tmp"
    continue
  fi
  if [ "${#password}" -lt "$min_length" ]; then
    echo "render-acl: $var is shorter than $min_length characters: use e.g. \`openssl rand -hex 32\`" >&2
    exit 1
  fi
  hash=$(printf '%s' "$password" | sha256sum | cut -c1-64)
  printf '%s #%s\n' "$line" "$hash" >>"$tmp"
done <"$in"

mv "$tmp" "$out"
trap - EXIT
