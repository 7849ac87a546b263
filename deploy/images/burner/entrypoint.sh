#!/bin/sh
# Sample service that burns CPU per request, for autoscaling: GET /cgi-bin/burn?ms=N spins one
# core for N ms (default 100, at most 5000) and answers {"pod": ..., "burnedMs": N, "loops": ...};
# GET /health answers ok. The spin reads /proc/uptime until N ms have passed (10 ms steps),
# so the work is the same whatever the machine's speed. httpd runs as a child for the same
# reason as in hello: the trap turns SIGTERM into a clean exit 0.
www=/tmp/www
mkdir -p "$www/cgi-bin" || exit 1
printf 'ok\n' > "$www/health" || exit 1
printf '{"msg": "burner: GET /cgi-bin/burn?ms=N spins a core for N ms", "pod": "%s"}\n' "$(hostname)" > "$www/index.html" || exit 1
cat > "$www/cgi-bin/burn" <<'CGI' || exit 1
#!/bin/sh
ms=$(printf '%s' "$QUERY_STRING" | sed -n 's/.*ms=\([0-9][0-9]*\).*/\1/p')
ms=${ms:-100}
[ "$ms" -gt 5000 ] && ms=5000
cs() { read -r up _ < /proc/uptime; echo "${up%.*}${up#*.}"; }
now=$(cs)
end=$((now + (ms + 9) / 10))
loops=0
while [ "$now" -lt "$end" ]; do
  loops=$((loops + 1))
  read -r up _ < /proc/uptime
  now=${up%.*}${up#*.}
done
printf 'Content-Type: application/json\r\n\r\n{"pod": "%s", "burnedMs": %s, "loops": %s}\n' "$(hostname)" "$ms" "$loops"
CGI
chmod 0755 "$www/cgi-bin/burn" || exit 1
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; exit 0' TERM INT
echo "burner listening on :8080"
httpd -f -p 8080 -h "$www" &
pid=$!
wait "$pid"
