#!/usr/bin/env bash
# Installs and prepares everything SonoCode needs on a Debian machine that has only
# Node and npm. Idempotent and quick when everything is already there.
#   bash scripts/setup.sh            what `npm start` needs (npm packages, Redis, bwrap, runtime rootfs)
#   bash scripts/setup.sh --test     also PostgreSQL and Docker (daemon + runtime image) for the test suite
#   bash scripts/setup.sh --compose  also Docker and docker-compose for compose.yaml (npm run test:compose)
#   bash scripts/setup.sh --vm       also QEMU and the guest build tools for the cgroup v2 test bed (npm run test:vm)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_compose=0
want_vm=0
[ "${1:-}" = "--test" ] && want_test=1
[ "${1:-}" = "--vm" ] && want_vm=1
[ "${1:-}" = "--compose" ] && want_compose=1

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. npm packages, from the committed lockfile; skipped when the lockfile has not changed.
stamp=node_modules/.sonocode-lock-hash
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# 2. Debian packages.
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)     # the runtime rootfs's pinned npm tarballs (Node.js, TypeScript)
command -v ip >/dev/null || need+=(iproute2)   # ip netns: one empty network namespace per sandbox slot
# The judge builds its sandbox helpers (static) and its seccomp filter (libseccomp) on the host.
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
[ -f /usr/include/seccomp.h ] || need+=(libseccomp-dev)
# An unprivileged evaluator (cgroup v2) maps each slot's sandbox uid with the setuid newuidmap/newgidmap.
command -v newuidmap >/dev/null || need+=(uidmap)
if [ "$want_test" = 1 ]; then
  [ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql)
  command -v dockerd >/dev/null || need+=(docker.io)
  # The web playground's browser test drives Debian's chromium (playwright-core; no browser download).
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi
if [ "$want_compose" = 1 ]; then
  command -v dockerd >/dev/null || need+=(docker.io)
  # Debian 12's docker.io has no compose plugin; its docker-compose (1.29) reads compose.yaml.
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || need+=(docker-compose)
fi
if [ "$want_vm" = 1 ]; then
  # scripts/vm/build-guest.sh: the guest's own packages are only downloaded, never installed here.
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
  command -v strings >/dev/null || need+=(binutils)
fi
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "missing: ${need[*]}. Install them with: sudo apt-get install ${need[*]}"
    exit 1
  fi
  log "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The Debian packages start their own services; we run throwaway ones on free ports instead.
  for svc in redis-server postgresql; do
    service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# 3. The judge runtime root filesystem (every language toolchain), cached by content hash.
if [ "$(id -u)" = 0 ]; then
  bash scripts/runtime/build-rootfs.sh
else
  log "not root: skipping the runtime rootfs build (run 'sudo bash scripts/runtime/build-rootfs.sh')"
fi

# 4. For the tests: a Docker daemon and the runtime imported as an image.
if { [ "$want_test" = 1 ] || [ "$want_compose" = 1 ]; } && [ "$(id -u)" = 0 ]; then
  bash scripts/runtime/docker-image.sh
fi
