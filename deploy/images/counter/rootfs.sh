#!/bin/bash
# The CGI script goes into the image root given as $1.
set -euo pipefail
install -m 0755 "$(dirname "$0")/counter.cgi" "$1/counter.cgi"
