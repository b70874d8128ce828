#!/usr/bin/env bash
# Builds the judge runtime root filesystem: one Debian tree holding every language
# toolchain, used read-only as the bwrap root and imported as the Docker image.
# Offline-friendly: it needs only Debian's package mirror. Idempotent: the tree is
# keyed by a hash of this script, so a second run with the same script is instant.
set -euo pipefail

RUNTIME_DIR="${SONOCODE_RUNTIME_DIR:-/var/lib/sonocode/runtime}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
# Every language's packages; adding a language = one line here + one registry entry.
PACKAGES=(
  gcc g++ libc6-dev            # C, C++
  openjdk-17-jdk-headless      # Java
  python3                      # Python
  nodejs node-typescript       # JavaScript, TypeScript
  golang-go                    # Go
  rustc                        # Rust
)

hash=$(cat "$0" | sha256sum | cut -c1-12)
dest="$RUNTIME_DIR/rootfs-$hash"
link="$RUNTIME_DIR/rootfs"

if [ -f "$dest/.sonocode-runtime" ]; then
  ln -sfn "$dest" "$link"
  echo "runtime rootfs up to date: $dest"
  exit 0
fi

for tool in debootstrap chroot; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install debootstrap)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "building the runtime rootfs needs root" >&2; exit 1; }

mkdir -p "$RUNTIME_DIR"
work="$dest.partial"
cleanup() { umount "$work/proc" 2>/dev/null || true; }
trap cleanup EXIT
rm -rf "$work"

echo "debootstrap $SUITE into $work (from $MIRROR)"
debootstrap --variant=minbase "$SUITE" "$work" "$MIRROR"

mount -t proc proc "$work/proc"
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" > "$work/etc/apt/sources.list"
chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq
chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
chroot "$work" apt-get clean
umount "$work/proc"

# Trim what a judge never needs and make the sandbox mount points exist.
rm -rf "$work"/var/lib/apt/lists/* "$work"/usr/share/doc/* "$work"/usr/share/man/* "$work"/var/cache/*
mkdir -p "$work/box" "$work/tmp" "$work/dev/shm"
chmod 1777 "$work/tmp"
date -u +%FT%TZ > "$work/.sonocode-runtime"

mv "$work" "$dest"
ln -sfn "$dest" "$link"
echo "runtime rootfs built: $dest"
