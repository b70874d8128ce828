#!/usr/bin/env bash
# Starts dockerd when none answers and imports the runtime rootfs as the image
# sonocode-runtime:<hash> (+ :latest). Never pulls: the image comes from our own rootfs.
# Idempotent and safe to run concurrently (a lock serialises the start and the import).
# SONOCODE_IMAGE_LATEST=0: import and print the hash tag only, leave :latest where it is
# (testing another runtime, e.g. SONOCODE_RUNTIME_DIR=/var/lib/sonocode/runtime-x, beside the shared one).
set -euo pipefail

RUNTIME_DIR="${SONOCODE_RUNTIME_DIR:-/var/lib/sonocode/runtime}"
LOG_DIR=/var/log/sonocode
[ -e "$RUNTIME_DIR/rootfs" ] || { echo "no runtime rootfs at $RUNTIME_DIR/rootfs; build it with scripts/runtime/build-rootfs.sh" >&2; exit 1; }
rootfs=$(readlink -f "$RUNTIME_DIR/rootfs")
tag="sonocode-runtime:${rootfs##*rootfs-}"

mkdir -p "$LOG_DIR"
exec 9>"$LOG_DIR/docker-image.lock"
flock 9

daemon_up() { docker info >/dev/null 2>&1; }

wait_daemon() {
  for _ in $(seq 1 60); do daemon_up && return 0; sleep 0.5; done
  return 1
}

start_dockerd() {
  echo "[docker] starting dockerd $*" >&2
  # 9>&-: the daemon must not inherit (and hold forever) the lock.
  nohup dockerd "$@" >>"$LOG_DIR/dockerd.log" 2>&1 9>&- &
  local pid=$!
  wait_daemon && return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}

if ! daemon_up; then
  command -v dockerd >/dev/null || { echo "dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }
  # Judge containers use network "none", so when the default networking cannot be set
  # up (no iptables in a VM or a nested container) a daemon without it is just as good.
  start_dockerd \
    || start_dockerd --iptables=false --ip-masq=false --bridge=none \
    || { echo "dockerd did not start; see $LOG_DIR/dockerd.log" >&2; exit 1; }
fi

if ! docker image inspect "$tag" >/dev/null 2>&1; then
  echo "[docker] importing $rootfs as $tag" >&2
  # --one-file-system: whatever is mounted inside the tree (a /proc left by a chroot) stays out of the image.
  tar --numeric-owner --one-file-system -C "$rootfs" -c . | docker import - "$tag" >/dev/null
fi
[ "${SONOCODE_IMAGE_LATEST:-1}" = 0 ] || docker tag "$tag" sonocode-runtime:latest
echo "$tag"
