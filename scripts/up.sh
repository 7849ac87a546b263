#!/usr/bin/env bash
# The README's cluster command. The local cluster (etcd, registry, containerd, control plane,
# node agent, example service) lands with the `skiff up` issue; until then this says so.
set -euo pipefail
echo "skiff: the local cluster command is coming (see the README); ./scripts/test.sh works today." >&2
exit 1
