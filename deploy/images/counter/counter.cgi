#!/bin/sh
# GET /: INCR hits in Redis and say how often the page was seen (as the Python example does);
# the pod's name comes in the X-Served-By header, so load balancing over replicas shows.
reply=$(printf '*2\r\n$4\r\nINCR\r\n$4\r\nhits\r\n' | nc -w 3 "${REDIS_HOST:-redis}" "${REDIS_PORT:-6379}" | tr -d '\r' | head -n 1)
case "$reply" in
  :*)
    printf 'Content-Type: text/plain\r\nX-Served-By: %s\r\n\r\n' "$(hostname)"
    printf 'Hello World! I have been seen %s times.\n' "${reply#:}"
    ;;
  *)
    printf 'Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\nX-Served-By: %s\r\n\r\n' "$(hostname)"
    printf 'cannot reach redis at %s:%s: %s\n' "${REDIS_HOST:-redis}" "${REDIS_PORT:-6379}" "${reply:-no answer}"
    ;;
esac
