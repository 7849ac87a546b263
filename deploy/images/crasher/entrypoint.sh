#!/bin/sh
# Sample failing service: prints a line and exits 1 after CRASH_AFTER seconds (default 3).
echo "crasher: starting, exiting with code 1 in ${CRASH_AFTER-3}s"
sleep "${CRASH_AFTER-3}"
echo "crasher: exiting"
exit 1
