#!/usr/bin/env bash
# Builds Skiff's sample images (deploy/images/images.txt) offline from busybox-static with
# umoci, one OCI archive per name:tag, and prints the directory holding them.
#
# The archives are cached under ${SKIFF_IMAGE_CACHE:-~/.cache/skiff/images}/<hash>, where the
# hash covers every input (this script, deploy/images/**, the busybox binary), so a rebuild
# happens only when something changed. Concurrent callers serialise on a lock and the result
# appears atomically (built in a temp dir, then renamed).
#
# Output layout: <dir>/<name with / as ->-<tag>.tar, e.g. skiff-hello-1.tar, each an OCI
# archive whose single manifest is tagged <tag>; <dir>/index.txt lists "name tag file".
# Needs: umoci, busybox-static (/bin/busybox), tar, sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
busybox=${BUSYBOX:-/bin/busybox}
cache=${SKIFF_IMAGE_CACHE:-$HOME/.cache/skiff/images}

for tool in umoci tar sha256sum flock; do
  command -v "$tool" >/dev/null || { echo "build-images: $tool not found (apt-get install umoci busybox-static)" >&2; exit 1; }
done
[ -x "$busybox" ] || { echo "build-images: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
  echo "build-images: $busybox is dynamically linked; install busybox-static" >&2; exit 1
fi

# Binaries an image copies from the host (deploy/images/*/rootfs.sh) count as inputs too.
host_inputs=$(ls /usr/bin/redis-check-rdb /usr/bin/redis-cli 2>/dev/null || true)
hash=$( { sha256sum scripts/build-images.sh "$busybox" $host_inputs;
          find deploy/images -type f -print0 | sort -z | xargs -0 sha256sum;
          find deploy/images -type f -print0 | sort -z | xargs -0 stat -c '%a %n'; } \
        | sed "s#$busybox#busybox#" | sha256sum | cut -c1-16)
out="$cache/$hash"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -f "$out/index.txt" ]; then
  echo "$out"
  exit 0
fi

work=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT

# A shared busybox root filesystem: every applet as a symlink (never busybox onto itself).
base="$work/base"
mkdir -p "$base/bin" "$base/etc" "$base/tmp" "$base/proc" "$base/sys" "$base/dev" "$base/root"
cp "$busybox" "$base/bin/busybox"
for a in $("$base/bin/busybox" --list); do
  [ "$a" = busybox ] || ln -sf busybox "$base/bin/$a"
done
chmod 1777 "$base/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/tmp:/bin/sh\n' > "$base/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\n' > "$base/etc/group"

mkdir -p "$work/out"
: > "$work/out/index.txt"
while read -r name tag dir envs; do
  case "$name" in ''|'#'*) continue ;; esac
  file="$(echo "$name" | tr / -)-$tag.tar"
  layout="$work/oci-$RANDOM$RANDOM"
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$work/bundle"
  cp -a "$base/." "$work/bundle/rootfs/"
  install -m 0755 "deploy/images/$dir/entrypoint.sh" "$work/bundle/rootfs/entrypoint.sh"
  # An image may add files of its own (e.g. redis: Debian's binary and its libraries).
  if [ -f "deploy/images/$dir/rootfs.sh" ]; then bash "deploy/images/$dir/rootfs.sh" "$work/bundle/rootfs"; fi
  umoci repack --image "$layout:$tag" "$work/bundle"
  rm -rf "$work/bundle"
  cfg=(--config.entrypoint /entrypoint.sh --config.workingdir / --config.env PATH=/bin)
  if [ "$envs" != - ]; then
    for e in $envs; do cfg+=(--config.env "$e"); done
  fi
  umoci config --image "$layout:$tag" "${cfg[@]}" --author skiff \
    --config.label "org.opencontainers.image.title=$name"
  umoci gc --layout "$layout"
  tar -C "$layout" -cf "$work/out/$file" .
  echo "$name $tag $file" >> "$work/out/index.txt"
  rm -rf "$layout"
done < deploy/images/images.txt

mv "$work/out" "$out"
# Builds of older inputs nobody used for a week go.
find "$cache" -mindepth 1 -maxdepth 1 -type d -name '[0-9a-f]*' ! -path "$out" -mtime +7 -exec rm -rf {} + 2>/dev/null || true
echo "$out"
