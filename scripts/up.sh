#!/usr/bin/env bash
# The README's cluster command: on a fresh Debian machine, as root, installs the missing apt
# packages, the npm dependencies and the build, builds the sample images, then runs
# `skiff up` (etcd, registry, containerd, control plane, node agent, the example service).
# Arguments go to `skiff up` (--state-dir DIR, --nodes N, --no-example). Not root: prints the apt-get
# line (when packages are missing) and how to run it, and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
export npm_config_update_notifier=false

if [ "$(id -u)" != 0 ]; then
  # ensure_apt prints the exact apt-get line for whatever is missing and fails.
  ensure_apt "${SKIFF_APT_TEST[@]}" "${SKIFF_APT_RUNTIME[@]}" || true
  echo "skiff: the local cluster needs root (containerd, CNI networking): run: sudo $0 $*" >&2
  exit 1
fi

ensure_apt "${SKIFF_APT_TEST[@]}" "${SKIFF_APT_RUNTIME[@]}"
ensure_node_modules
build
echo "skiff: sample images"
bash scripts/build-images.sh >/dev/null
exec node dist/cli/main.js up "$@"
