#!/bin/sh
# Starts evaluator-service with the bwrap engine inside its container (compose.yaml).
# Runs as the container's root with CAP_SYS_ADMIN (the only capability added; see the
# README, "Compose"), does the two things the judge cannot do from Node, then execs it:
#  1. Makes the container's own cgroup subtree writable. Docker mounts it read-only; the
#     judge creates sonocode/run-* groups below it, so every sandbox is also inside the
#     container's limits. Only this container's subtree is visible (not the host's roots).
#  2. Mounts a fresh, unmasked procfs over /proc (what `--security-opt systempaths=unconfined`
#     does, which docker-compose 1.x cannot express). bwrap needs it twice: the kernel lets a
#     user namespace mount a new /proc (one per sandbox) only when a fully visible procfs
#     exists in its mount namespace, and Docker's /proc has masked files; and bwrap's
#     --disable-userns writes /proc/sys/user/max_user_namespaces, read-only under Docker.
#     Sandboxes never see this /proc: each gets its own, with /proc/sys read-only.
set -eu

cgroup_v2=0
while read -r _ path type opts _; do
  case "$type" in
    cgroup|cgroup2)
      [ "$type" = cgroup2 ] && cgroup_v2=1
      case ",$opts," in *,ro,*) mount -o remount,bind,rw "$path" ;; esac
      ;;
  esac
done < /proc/self/mounts

if [ "$cgroup_v2" = 1 ] && [ -f /sys/fs/cgroup/cgroup.subtree_control ]; then
  # cgroup v2 (not verified on our v1 hosts): a group with processes cannot enable
  # controllers for its children, so the container's processes move into a leaf first.
  mkdir -p /sys/fs/cgroup/init
  while read -r pid; do echo "$pid" > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true; done < /sys/fs/cgroup/cgroup.procs
fi

mount -t proc -o nosuid,nodev,noexec proc /proc

exec node --import tsx services/evaluator-service/src/main.ts
