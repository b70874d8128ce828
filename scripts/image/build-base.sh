#!/usr/bin/env bash
# Builds the base image every compose container runs on, without any registry:
# debootstrap Debian 12 (minbase) from the package mirror, add the few Debian packages
# the containers need, and `docker import` the tree as sonocode-base:<hash>.
# Cached by content hash: the tree and the image are keyed by a hash of this script,
# so a second run is instant and an edit here builds a new base.
#   bash scripts/image/build-base.sh        prints the image tag on stdout
set -euo pipefail

IMAGE_DIR="${SONOCODE_IMAGE_DIR:-/var/lib/sonocode/image}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
PACKAGES=(
  redis-server            # the redis service (AOF on a volume)
  postgresql-15           # the postgres service (initdb on first start, see postgres-entrypoint.sh)
  bubblewrap iproute2     # the evaluator's bwrap engine: sandboxes and per-slot network namespaces
  gcc libc6-dev libseccomp-dev   # the judge builds its static helpers and seccomp filter at start
)

hash=$(sha256sum "$0" | cut -c1-12)
tag="sonocode-base:$hash"
dest="$IMAGE_DIR/base-$hash"

log() { printf '[image] %s\n' "$*" >&2; }

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi

if [ ! -f "$dest/.sonocode-base" ]; then
  for tool in debootstrap chroot docker; do
    command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }
  done
  [ "$(id -u)" = 0 ] || { log "building the base image needs root (debootstrap)"; exit 1; }
  mkdir -p "$IMAGE_DIR"
  work="$dest.partial"
  cleanup() { umount "$work/proc" 2>/dev/null || true; }
  trap cleanup EXIT
  rm -rf "$work"

  log "debootstrap $SUITE into $work (from $MIRROR)"
  debootstrap --variant=minbase "$SUITE" "$work" "$MIRROR" >&2
  mount -t proc proc "$work/proc"
  printf 'deb %s %s main\n' "$MIRROR" "$SUITE" > "$work/etc/apt/sources.list"
  # Packages must not start services in the chroot, and postgresql must not create a
  # cluster at build time: the container makes its own in its data volume on first start.
  printf '#!/bin/sh\nexit 101\n' > "$work/usr/sbin/policy-rc.d"
  chmod 755 "$work/usr/sbin/policy-rc.d"
  mkdir -p "$work/etc/postgresql-common/createcluster.d"
  echo 'create_main_cluster = false' > "$work/etc/postgresql-common/createcluster.d/no-main.conf"
  chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
  chroot "$work" apt-get clean
  umount "$work/proc"
  rm -f "$work/usr/sbin/policy-rc.d"
  # ssl-cert (pulled in by postgresql) made a snakeoil key pair: no image ships a private key.
  rm -f "$work"/etc/ssl/private/ssl-cert-snakeoil.key "$work"/etc/ssl/certs/ssl-cert-snakeoil.pem
  find "$work/etc/ssl/certs" -xtype l -delete
  rm -rf "$work"/var/lib/apt/lists/* "$work"/usr/share/doc/* "$work"/usr/share/man/* "$work"/var/cache/apt/*
  date -u +%FT%TZ > "$work/.sonocode-base"
  mv "$work" "$dest"
  trap - EXIT
fi

log "importing $dest as $tag"
tar --numeric-owner -C "$dest" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' - "$tag" >/dev/null
echo "$tag"
