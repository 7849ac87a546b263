#!/bin/sh
# The visit counter of Docker's Compose getting-started example, without Python: busybox httpd
# runs cgi-bin/index.cgi for GET /, which INCRs the key "hits" in Redis ($REDIS_HOST, default
# "redis", port $REDIS_PORT, default 6379) by speaking RESP over nc. httpd is a child so the
# trap turns SIGTERM into a clean exit (as PID 1 it would ignore it).
www=/tmp/www
mkdir -p "$www/cgi-bin" || exit 1
cp /counter.cgi "$www/cgi-bin/index.cgi" && chmod 0755 "$www/cgi-bin/index.cgi" || exit 1
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; exit 0' TERM INT
port=${PORT:-5000}
echo "counter listening on :$port, counting in ${REDIS_HOST:-redis}:${REDIS_PORT:-6379}"
httpd -f -p "$port" -h "$www" &
pid=$!
wait "$pid"
