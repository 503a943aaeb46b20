#!/usr/bin/env bash
# Builds the sandbox base image from sandboxes/base without any container registry:
# debootstrap minbase + the listed packages, customize.sh, then `docker import`. The tag is a
# content hash of the definition, so the image is rebuilt only when the definition changes.
# Prints the image reference on its last line. Usage: scripts/sandbox-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DEF=sandboxes/base
HASH=$(cat "$DEF/packages" "$DEF/customize.sh" | sha256sum | cut -c1-12)
IMAGE="srl-sandbox/base:$HASH"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "sandbox image up to date"
    echo "$IMAGE"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "error: building the sandbox image needs root (debootstrap, chroot)" >&2
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || { echo "error: no apt mirror found in the apt sources" >&2; exit 1; }
WORK=$(mktemp -d /tmp/srl-rootfs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
INCLUDE=$(grep -v '^#' "$DEF/packages" | grep -v '^$' | paste -sd, -)
echo "building $IMAGE: debootstrap bookworm with $INCLUDE (about 90 s)"
if ! debootstrap --variant=minbase --include="$INCLUDE" bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -20 "$WORK/debootstrap.log" >&2
    exit 1
fi
bash "$DEF/customize.sh" "$WORK/rootfs"
tar -C "$WORK/rootfs" --numeric-owner -cf - . | docker import \
    -c 'USER 1000:1000' -c 'WORKDIR /work' \
    -c 'ENV LANG=C.UTF-8 HOME=/home/agent PYTHONDONTWRITEBYTECODE=1 PATH=/usr/local/bin:/usr/bin:/bin' \
    -c 'CMD ["sleep","infinity"]' - "$IMAGE" >/dev/null
docker tag "$IMAGE" srl-sandbox/base:latest
echo "$IMAGE"
