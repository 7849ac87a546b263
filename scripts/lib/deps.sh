# Shared by the README's two commands: installs what a fresh Debian machine lacks.
# Sourced, not run.

# Debian packages each part needs. Tests need etcd always; the real-runtime tests and the
# cluster need containerd, runc, CNI plugins, a registry and the image tools.
SKIFF_APT_TEST=(etcd-server etcd-client)
# kubectl for the REST API tests: Debian's kubernetes-client, unless a kubectl is already
# installed (it would clash over /usr/bin/kubectl with another package's, e.g. Google Cloud SDK's).
command -v kubectl >/dev/null 2>&1 || SKIFF_APT_TEST+=(kubernetes-client)
# redis-tools: the Redis server binary of the sample redis image (no service is installed).
SKIFF_APT_RUNTIME=(containerd runc containernetworking-plugins docker-registry skopeo umoci busybox-static iproute2 iptables nftables redis-tools)
# buildah: only the tests need it (test/e2e/compose-build.test.ts, `build:` in a compose file);
# `skiff up` does not, and `skiff compose up` says how to install it when a file builds.
SKIFF_APT_BUILD=(buildah)

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

# ensure_apt PKG...: installs the missing ones when root, else prints the exact command and fails.
ensure_apt() {
  local missing
  missing=$(missing_packages "$@" | tr '\n' ' ')
  [ -z "${missing// /}" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "skiff: missing Debian packages: $missing" >&2
    echo "skiff: install them with: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing" >&2
    return 1
  fi
  echo "skiff: installing Debian packages: $missing"
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# ensure_node_modules: npm ci when node_modules does not match package-lock.json.
ensure_node_modules() {
  local want have
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  have=$(cat node_modules/.skiff-lock-sha 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    echo "skiff: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > node_modules/.skiff-lock-sha
  fi
}

# build: regenerate proto code (checked against the committed copy by the test command) and compile.
build() {
  echo "skiff: building (tsc)"
  npx --no-install tsc -p tsconfig.json
  chmod +x dist/cli/main.js dist/control-plane/main.js dist/node-agent/main.js 2>/dev/null || true
}
