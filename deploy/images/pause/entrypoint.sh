#!/bin/sh
# Holds the pod's namespaces open. Exits 0 on SIGTERM/SIGINT (PID 1 ignores signals it does
# not trap, so without the trap every stop would wait for SIGKILL).
trap 'exit 0' TERM INT
while :; do
  sleep 2147483647 &
  wait $!
done
