#!/bin/sh
# Sample service: GET / answers {"msg": "<$GREETING>", "version": "<$VERSION>", "pod": "<hostname>"}
# (the pod's name, so load balancing over replicas shows), GET /health answers ok. Files are written at start so the greeting comes from the pod's env.
# httpd runs as a child rather than exec'd: as PID 1 it would ignore SIGTERM and every stop
# would wait out the grace period; the trap turns SIGTERM into a clean exit 0.
www=/tmp/www
mkdir -p "$www" || exit 1
greeting=$(printf '%s' "${GREETING-hello}" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
printf '{"msg": "%s", "version": "%s", "pod": "%s"}\n' "$greeting" "$VERSION" "$(hostname)" > "$www/index.html" || exit 1
printf 'ok\n' > "$www/health" || exit 1
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; exit 0' TERM INT
echo "hello v$VERSION listening on :8080"
httpd -f -p 8080 -h "$www" &
pid=$!
wait "$pid"
