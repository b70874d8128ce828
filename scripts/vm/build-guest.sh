#!/usr/bin/env bash
# Builds the cgroup v2 test guest from Debian packages, without installing any of them
# on the host. Three disk images and a kernel, each cached by content hash under
# $SONOCODE_VM_DIR (default /var/lib/sonocode/vm), so a second build is instant:
#   system-<h>/   vmlinuz, initrd.img (busybox + the few modules needed to mount disks),
#                 system.img: debootstrap minbase + bubblewrap, redis-server, iproute2,
#                 the host's node binary, an unprivileged "judge" user.
#                 <h> = this script + the kernel package version + the node binary.
#   runtime-<rootfs name>.img   the judge's runtime rootfs (read-only in the guest).
#   project-<h>.img             the project tree (git ls-files or a commit, + node_modules); <h> = its content.
#   docker[-app]-<h>.img        a Docker data root (/var/lib/docker), loaded by a private dockerd on
#                               the host; <h> = the ids of the images it holds:
#                               SONOCODE_VM_DOCKER=1   the runtime image (the Docker engine's plan);
#                               SONOCODE_VM_COMPOSE=1  sonocode-app (scripts/image/build.sh, from the
#                               same sources as the project image), for compose.yaml in the guest.
# Prints "key=path" lines on stdout for scripts/vm/run-vm.mjs; logs go to stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."

VM_DIR="${SONOCODE_VM_DIR:-/var/lib/sonocode/vm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
RUNTIME_ROOTFS="${SONOCODE_RUNTIME_ROOTFS:-/var/lib/sonocode/runtime/rootfs}"
SUITE=bookworm
# Debian's generic kernel (the cloud one lacks virtio_blk in its initramfs-free form too, and 9p).
KERNEL_PACKAGE=linux-image-amd64
PACKAGES=(
  bubblewrap iproute2 redis-server   # the judge's bwrap engine, its slot netns, BullMQ's Redis
  libstdc++6                         # the host's node binary links it
  gcc libc6-dev libseccomp-dev       # the judge builds its static helpers and seccomp filter on its host
  procps                             # ps, for diagnostics in the guest log
  uidmap                             # newuidmap/newgidmap: the unprivileged judge's per-slot sandbox uids
  kmod                               # the kernel loads what else it needs (overlay, ...) through modprobe
  docker.io                          # the Docker engine's plan (run-vm.mjs --docker): dockerd, containerd, runc
  docker-compose                     # the compose plan (run-vm.mjs --compose): compose.yaml as users run it
  systemd                            # the systemd plan (run-vm.mjs --systemd): deploy/systemd's units under real systemd as PID 1
)
# Loaded in this order by the initramfs (with their dependencies) to reach the disks.
MODULES=(virtio_pci virtio_blk crc32c_generic ext4)

log() { printf '[vm] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "building the guest needs root (debootstrap, chroot)"; exit 1; }
for tool in debootstrap chroot mkfs.ext4 apt-get dpkg-deb strings git; do
  command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }
done
mkdir -p "$VM_DIR"

# ext4 image of a directory tree: sized from its contents plus room for the guest's writes
# (they go to a throwaway qemu snapshot layer; the image itself is never modified).
make_image() { # <dir> <image> <label>
  local mb
  mb=$(du -sm --apparent-size "$1" | cut -f1)
  mb=$(( mb + mb / 4 + 256 ))
  rm -f "$2.partial"
  mkfs.ext4 -q -F -L "$3" -E root_owner=0:0 -d "$1" "$2.partial" "${mb}M" >&2
  mv "$2.partial" "$2"
}

node_bin=$(readlink -f "$(command -v node)")
kernel_version=$(apt-cache depends "$KERNEL_PACKAGE" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -1)
[ -n "$kernel_version" ] || { log "cannot resolve $KERNEL_PACKAGE (run apt-get update)"; exit 1; }

# ---- system: kernel, initramfs, userland ------------------------------------
# Bump when the system build steps below change (the package lists and initramfs init are hashed).
SYSTEM_FORMAT=3
system_hash=$( { echo "$SYSTEM_FORMAT $SUITE $kernel_version ${PACKAGES[*]} / ${MODULES[*]}"; cat scripts/vm/initramfs-init.sh; sha256sum "$node_bin" | cut -d' ' -f1; } | sha256sum | cut -c1-12)
system_dir="$VM_DIR/system-$system_hash"
if [ ! -f "$system_dir/system.img" ]; then
  started=$SECONDS
  work="$system_dir.partial"
  rm -rf "$work"
  mkdir -p "$work/debs" "$work/kernel" "$work/initrd/bin"
  log "downloading $kernel_version and busybox-static"
  ( cd "$work/debs" && apt-get download -q "$kernel_version" busybox-static 2>&1 | grep -v unsandboxed >&2 ) || true
  dpkg-deb -x "$work"/debs/linux-image-*.deb "$work/kernel"
  dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/busybox"
  cp "$work"/kernel/boot/vmlinuz-* "$work/vmlinuz"
  kver=$(basename "$work"/kernel/lib/modules/*)

  # initramfs: static busybox, the disk modules (dependencies first, read from each
  # module's own depends= field: the package ships no modules.dep), and init.
  cp "$work/busybox/bin/busybox" "$work/initrd/bin/busybox"
  for applet in sh mount umount mkdir insmod switch_root usleep cat echo ln poweroff; do ln -s busybox "$work/initrd/bin/$applet"; done
  mkdir -p "$work/initrd/modules"
  declare -A loaded=()
  order=()
  add_module() {
    local name=$1 file deps dep
    [ -n "${loaded[$name]:-}" ] && return 0
    file=$(find "$work/kernel/lib/modules/$kver" -name "$name.ko" -o -name "${name//_/-}.ko" | head -1)
    [ -n "$file" ] || { log "module $name not found (built in?)"; loaded[$name]=builtin; return 0; }
    deps=$(strings "$file" | sed -n 's/^depends=//p' | head -1)
    for dep in ${deps//,/ }; do add_module "$dep"; done
    loaded[$name]=1
    cp "$file" "$work/initrd/modules/"
    order+=("$(basename "$file")")
  }
  for m in "${MODULES[@]}"; do add_module "$m"; done
  printf '%s\n' "${order[@]}" > "$work/initrd/modules/order"
  cp scripts/vm/initramfs-init.sh "$work/initrd/init"
  chmod 755 "$work/initrd/init"
  # busybox's own cpio: the host needs no cpio package.
  ( cd "$work/initrd" && find . | "$work/busybox/bin/busybox" cpio -o -H newc 2>/dev/null ) | gzip -1 > "$work/initrd.img"

  log "debootstrap $SUITE minbase + ${PACKAGES[*]}"
  include=$(IFS=,; echo "${PACKAGES[*]}")
  debootstrap --variant=minbase --include="$include" "$SUITE" "$work/root" "$MIRROR" >&2
  root="$work/root"
  cp "$node_bin" "$root/usr/local/bin/node"
  chroot "$root" /usr/local/bin/node --version >/dev/null
  chroot "$root" useradd --create-home --uid 1000 --user-group --shell /bin/bash judge
  # Subordinate ids for the unprivileged judge's sandbox uids (useradd adds them only when the files exist).
  for f in subuid subgid; do grep -q '^judge:' "$root/etc/$f" 2>/dev/null || echo "judge:100000:65536" >> "$root/etc/$f"; done
  # Every module of the guest's kernel, for the kernel's on-demand modprobe (overlayfs for the judge's rootfs, ...).
  mkdir -p "$root/lib/modules"
  cp -a "$work/kernel/lib/modules/$kver" "$root/lib/modules/"
  chroot "$root" depmod "$kver"
  # Without --systemd no init system runs (guest-init.sh is PID 1, tests start their own redis and
  # dockerd); with it, guest-init.sh masks what the systemd plan does not need and execs systemd.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
  mkdir -p "$root/srv/sonocode" "$root/var/lib/sonocode/runtime" "$root/results"
  echo sonocode-vm > "$root/etc/hostname"
  make_image "$root" "$work/system.img" sonocode-sys
  rm -rf "$work/root" "$work/debs" "$work/kernel" "$work/busybox" "$work/initrd"
  rm -rf "$system_dir"
  mv "$work" "$system_dir"
  # Older systems (other package lists, kernels or node binaries) are not used again.
  # Never another build's work in progress (system-*.partial: a concurrent build-guest.sh).
  for old in "$VM_DIR"/system-????????????; do [ "$old" = "$system_dir" ] || rm -rf "$old"; done
  log "system image built in $(( SECONDS - started )) s: $system_dir"
fi

# ---- runtime rootfs ----------------------------------------------------------
rootfs_real=$(readlink -f "$RUNTIME_ROOTFS")
[ -f "$rootfs_real/.sonocode-runtime" ] || { log "no runtime rootfs at $RUNTIME_ROOTFS (bash scripts/runtime/build-rootfs.sh)"; exit 1; }
rootfs_name=$(basename "$rootfs_real")
runtime_img="$VM_DIR/runtime-$rootfs_name.img"
if [ ! -f "$runtime_img" ]; then
  started=$SECONDS
  make_image "$rootfs_real" "$runtime_img" sonocode-rt
  log "runtime image built in $(( SECONDS - started )) s: $runtime_img"
fi

# ---- project tree ------------------------------------------------------------
# SONOCODE_VM_SOURCE=worktree (default): tracked and new (not ignored) files as they are in
# the work tree; or a git revision (e.g. HEAD): exactly that commit, whatever the work tree
# holds (useful when others are editing the same checkout). node_modules comes along as is.
source="${SONOCODE_VM_SOURCE:-worktree}"
lock_id=$(cat node_modules/.sonocode-lock-hash 2>/dev/null || sha256sum package-lock.json)
if [ "$source" = worktree ]; then
  mapfile -d '' files < <(git ls-files -z --cached --others --exclude-standard)
  existing=()
  for f in "${files[@]}"; do [ -f "$f" ] && existing+=("$f"); done
  project_hash=$( { printf '%s\0' "${existing[@]}" | xargs -0 sha256sum; echo "$lock_id"; } | sha256sum | cut -c1-12)
else
  tree_id=$(git rev-parse --verify "$source^{tree}") || { log "not a git revision: $source"; exit 1; }
  project_hash=$(echo "$tree_id $lock_id" | sha256sum | cut -c1-12)
fi
project_img="$VM_DIR/project-$project_hash.img"
if [ ! -f "$project_img" ]; then
  started=$SECONDS
  tree="$VM_DIR/project-$project_hash.tree"
  rm -rf "$tree"
  mkdir -p "$tree"
  if [ "$source" = worktree ]; then
    printf '%s\0' "${existing[@]}" | tar --null -T - -cf - | tar -xf - -C "$tree"
  else
    git archive "$tree_id" | tar -xf - -C "$tree"
  fi
  # An npm install running meanwhile can make files vanish mid-copy: try again a few times.
  for attempt in 1 2 3; do
    rm -rf "$tree/node_modules"
    cp -a node_modules "$tree/node_modules" && break
    [ "$attempt" = 3 ] && { log "cannot copy node_modules"; exit 1; }
    sleep 5
  done
  make_image "$tree" "$project_img" sonocode-src
  rm -rf "$tree"
  # Only the newest few project images are worth keeping.
  ls -1t "$VM_DIR"/project-*.img 2>/dev/null | tail -n +4 | xargs -r rm -f
  log "project image ($source) built in $(( SECONDS - started )) s: $project_img"
fi

# ---- Docker data root (opt-in) ---------------------------------------------------
# Loading 1.9 GB into dockerd under TCG would take minutes per boot; a private dockerd on
# the host (its own data root, exec root and socket, no network setup; it never touches
# the host's daemon) loads the images once, and its data root becomes a disk.
images=()
if [ "${SONOCODE_VM_DOCKER:-0}" = 1 ]; then
  images+=("sonocode-runtime:${rootfs_name#rootfs-}")
  docker image inspect "${images[-1]}" >/dev/null 2>&1 || { log "no image ${images[-1]} in the host's Docker (bash scripts/runtime/docker-image.sh)"; exit 1; }
fi
if [ "${SONOCODE_VM_COMPOSE:-0}" = 1 ]; then
  # The app image from the same sources as the project disk (build.sh knows HEAD and the work tree).
  case "$source" in worktree | HEAD) ;; *) log "the compose plan builds sonocode-app from HEAD or the work tree, not $source"; exit 1 ;; esac
  started=$SECONDS
  SONOCODE_APP_IMAGE=sonocode-app:vm SONOCODE_IMAGE_FROM="$source" bash scripts/image/build.sh >/dev/null
  log "sonocode-app:vm ready in $(( SECONDS - started )) s (sources: $source)"
  images+=(sonocode-app:vm)
fi
if [ "${#images[@]}" -gt 0 ]; then
  ids=$(for image in "${images[@]}"; do docker image inspect -f '{{.Id}}' "$image"; done)
  # One file per kind, so the Docker engine's plan and the compose plan keep their own cache:
  # docker-<runtime image id>.img, docker-app-<h>.img, docker-runtime+app-<h>.img.
  if [ "${#images[@]}" = 1 ] && [ "${SONOCODE_VM_DOCKER:-0}" = 1 ]; then kind=docker; docker_hash=${ids#sha256:}; docker_hash=${docker_hash:0:12}
  else
    kind=docker-app
    [ "${#images[@]}" = 2 ] && kind=docker-runtime+app
    docker_hash=$(echo "$ids" | sha256sum | cut -c1-12)
  fi
  docker_img="$VM_DIR/$kind-$docker_hash.img"
  if [ ! -f "$docker_img" ]; then
    command -v dockerd >/dev/null || { log "missing dockerd (apt-get install docker.io)"; exit 1; }
    started=$SECONDS
    tree="$VM_DIR/docker-$docker_hash.tree"
    exec_root=$(mktemp -d /run/sonocode-vm-dockerd.XXXXXX)
    sock="unix://$exec_root/docker.sock"
    rm -rf "$tree" && mkdir -p "$tree"
    dockerd --data-root "$tree" --exec-root "$exec_root/exec" --pidfile "$exec_root/dockerd.pid" -H "$sock" \
      --bridge=none --iptables=false --ip-masq=false --storage-driver=overlay2 --log-level=error \
      --containerd-namespace sonocode-vm --containerd-plugins-namespace sonocode-vm-plugins >"$exec_root/dockerd.log" 2>&1 &
    dockerd_pid=$!
    stop_dockerd() { kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null; rm -rf "$exec_root"; }
    trap stop_dockerd EXIT
    for _ in $(seq 100); do docker -H "$sock" version >/dev/null 2>&1 && break; sleep 0.3; done
    docker -H "$sock" version >/dev/null 2>&1 || { cat "$exec_root/dockerd.log" >&2; log "the private dockerd did not start"; exit 1; }
    for image in "${images[@]}"; do
      log "loading $image into a private data root"
      docker save "$image" | docker -H "$sock" load -q >&2
      # The names the guest uses: the judge's default runtime image, compose.yaml's default app image.
      docker -H "$sock" tag "$image" "${image%%:*}:latest"
    done
    stop_dockerd
    trap - EXIT
    make_image "$tree" "$docker_img" sonocode-dkr
    rm -rf "$tree"
    # Older data roots of the same kind are not used again (12 ?: the hash, nothing longer).
    for old in "$VM_DIR/$kind"-????????????.img; do [ "$old" = "$docker_img" ] || rm -f "$old"; done
    log "docker data root image built in $(( SECONDS - started )) s: $docker_img (${images[*]})"
  fi
  echo "docker=$docker_img"
fi

echo "kernel=$system_dir/vmlinuz"
echo "initrd=$system_dir/initrd.img"
echo "system=$system_dir/system.img"
echo "runtime=$runtime_img"
echo "runtime_name=$rootfs_name"
echo "project=$project_img"
