#!/bin/bash
# Puts Debian's Redis into the image root given as $1: the server binary (redis-tools ships it
# as redis-check-rdb; started as redis-server it runs the server, which is all the
# redis-server package adds) and redis-cli, each with the libraries and loader ldd lists.
set -euo pipefail
root=$1
bin=/usr/bin/redis-check-rdb
for f in "$bin" /usr/bin/redis-cli; do
  [ -x "$f" ] || { echo "build-images: $f not found (apt-get install redis-tools)" >&2; exit 1; }
done
mkdir -p "$root/usr/bin" "$root/data"
cp "$bin" "$root/usr/bin/redis-server"
cp /usr/bin/redis-cli "$root/usr/bin/redis-cli"
# The image's PATH is /bin: healthchecks run `redis-cli ping` by name.
ln -s ../usr/bin/redis-server "$root/bin/redis-server"
ln -s ../usr/bin/redis-cli "$root/bin/redis-cli"
for lib in $( { ldd "$bin"; ldd /usr/bin/redis-cli; } | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
