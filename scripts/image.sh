#!/usr/bin/env bash
# The engine image (image/Containerfile) with Debian's buildah.
#
#   scripts/image.sh            build from the Containerfile (its CUDA base is pulled: needs
#                               a registry) → localhost/hsof/hsof-engine:VERSION
#   scripts/image.sh offline    no registry: `buildah from scratch`, the locally built
#                               hsofctl with the shared libraries it links (ldd), committed to
#                               target/image/hsof-engine.tar (OCI archive); then checked by
#                               unpacking its layer and running its hsofctl in a chroot
#
# The offline image has the CPU backend only in practice (no CUDA libraries inside; the
# CUDA backend reports that it cannot start and `--backend auto` falls back to the CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
tag="hsof/hsof-engine:${version}"
command -v buildah >/dev/null || { echo "image: buildah is missing (apt-get install buildah)" >&2; exit 1; }
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot

if [[ "${1:-}" != offline ]]; then
  [[ -x target/release/hsofctl ]] || cargo build --release -p hsofctl
  buildah bud --layers -f image/Containerfile -t "$tag" .
  echo "image: built $tag"
  exit 0
fi

bin=${HSOFCTL:-target/debug/hsofctl}
[[ -x "$bin" ]] || cargo build -p hsofctl
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/rootfs/usr/local/bin" "$root/rootfs/tmp" "$root/rootfs/work"
cp "$bin" "$root/rootfs/usr/local/bin/hsofctl"
# The libraries it links, at the paths the loader looks for them.
ldd "$bin" | awk '/=>/ {print $3} $1 ~ /^\// {print $1}' | grep '^/' | sort -u | while read -r lib; do
  mkdir -p "$root/rootfs$(dirname "$lib")"
  cp -L "$lib" "$root/rootfs$lib"
done
chmod 1777 "$root/rootfs/tmp"
ctr=$(buildah from scratch)
buildah copy "$ctr" "$root/rootfs/" / >/dev/null
buildah config --entrypoint '["/usr/local/bin/hsofctl"]' --env HSOF_CONTROL_SECRETS_BACKEND=file \
  --env HOME=/work --label org.opencontainers.image.title=hsof-engine --label "org.opencontainers.image.version=$version" "$ctr"
mkdir -p target/image
rm -f target/image/hsof-engine.tar
buildah commit -q --format oci "$ctr" "oci-archive:target/image/hsof-engine.tar:$tag" >/dev/null
buildah rm "$ctr" >/dev/null
# Check: the image's own files run hsofctl (no host library involved).
check=$(mktemp -d)
tar -xf target/image/hsof-engine.tar -C "$check"
manifest=$(python3 -c "import json,sys; i=json.load(open('$check/index.json')); print(i['manifests'][0]['digest'].split(':')[1])")
layer=$(python3 -c "import json; m=json.load(open('$check/blobs/sha256/$manifest')); print(m['layers'][0]['digest'].split(':')[1])")
mkdir -p "$check/fs"
tar -xf "$check/blobs/sha256/$layer" -C "$check/fs"
out=$(chroot "$check/fs" /usr/local/bin/hsofctl --version)
rm -rf "$check"
echo "image: target/image/hsof-engine.tar ($tag, $(du -h target/image/hsof-engine.tar | cut -f1)); inside it: $out"
