#!/bin/sh
# Redis as the official image runs it: listening on 6379 on every address, data in /data
# (an RDB snapshot; it survives the container when /data is a volume), saved on SIGTERM by
# redis itself (it is exec'd, so it is PID 1 and gets the signal). Extra arguments go to
# redis-server, as with `docker run redis --appendonly yes`.
mkdir -p /data || exit 1
cd /data || exit 1
exec /usr/bin/redis-server --bind 0.0.0.0 --protected-mode no --dir /data --save 60 1 "$@"
