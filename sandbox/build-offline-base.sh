#!/usr/bin/env bash
# Build a makegreen base image from Debian's packages, for machines that can reach no container registry.
#
#   sudo sandbox/build-offline-base.sh [TAG]          (default TAG: makegreen-base:offline)
#   export MAKEGREEN_BASE_IMAGE=makegreen-base:offline
#
# Needs root, debootstrap, a running Docker engine, and a Debian mirror (the host's apt source is used).
# Idempotent: an existing image with TAG is kept; set MAKEGREEN_REBUILD_BASE=1 to rebuild it.
set -euo pipefail

tag="${1:-makegreen-base:offline}"
suite="${MAKEGREEN_DEBIAN_SUITE:-bookworm}"
mirror="${MAKEGREEN_DEBIAN_MIRROR:-}"

if [ "${MAKEGREEN_REBUILD_BASE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag exists; set MAKEGREEN_REBUILD_BASE=1 to rebuild it"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 3; }
[ "$(id -u)" = 0 ] || { echo "debootstrap needs root" >&2; exit 3; }

if [ -z "$mirror" ]; then
  # Reuse the host's own Debian mirror so that a machine with a local or proxied mirror keeps using it.
  mirror=$(grep -rhoE '^(deb|URIs:) +https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
           | awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

rootfs=$(mktemp -d /tmp/makegreen-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase \
  --include=python3,python3-pytest,python3-pip,python3-venv,coreutils,procps,ca-certificates \
  "$suite" "$rootfs" "$mirror"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$tag"
docker image inspect "$tag" --format '{{.Id}}'
docker run --rm --network none "$tag" python3 -m pytest --version
