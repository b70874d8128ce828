#!/usr/bin/env bash
# Starts dockerd when none answers and imports the runtime rootfs as the image
# sonocode-runtime:<hash> (+ :latest). Never pulls: the image comes from our own rootfs.
set -euo pipefail

RUNTIME_DIR="${SONOCODE_RUNTIME_DIR:-/var/lib/sonocode/runtime}"
rootfs=$(readlink -f "$RUNTIME_DIR/rootfs")
tag="sonocode-runtime:${rootfs##*rootfs-}"

if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }
  echo "[docker] starting dockerd" >&2
  mkdir -p /var/log/sonocode
  nohup dockerd >/var/log/sonocode/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/sonocode/dockerd.log" >&2; exit 1; }
fi

if ! docker image inspect "$tag" >/dev/null 2>&1; then
  echo "[docker] importing $rootfs as $tag" >&2
  tar --numeric-owner -C "$rootfs" -c . | docker import - "$tag" >/dev/null
fi
docker tag "$tag" sonocode-runtime:latest
echo "$tag"
