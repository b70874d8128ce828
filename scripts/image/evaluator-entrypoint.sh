#!/bin/sh
# Starts evaluator-service with the bwrap engine inside its container (compose.yaml).
# Runs as the container's root with SYS_ADMIN, SETUID, SETGID, MKNOD and DAC_OVERRIDE
# (every other capability dropped; the README, "Compose", says why each), does the one
# thing the judge cannot do from Node, then execs it:
#   Makes the container's own cgroup subtree writable. Docker mounts it read-only; the
#   judge creates its sonocode/run-* groups below it, so every sandbox also counts against
#   the container's limits. Only this container's subtree is visible (not the host's roots).
# Docker's /proc stays as it is (masked paths, read-only /proc/sys): the supervisor mounts
# each run's own /proc as real root in a fresh pid namespace, which the kernel allows
# without a fully visible procfs (that rule binds user namespaces only, and bubblewrap,
# which needed an unmasked /proc here, is no longer used).
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
  # cgroup v2 (not verified: our hosts are v1): a group with processes cannot enable
  # controllers for its children, so the container's processes move into a leaf first
  # (the judge would do the same for itself; this also covers tini, pid 1).
  mkdir -p /sys/fs/cgroup/init
  while read -r pid; do echo "$pid" > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true; done < /sys/fs/cgroup/cgroup.procs
fi

exec node --import tsx services/evaluator-service/src/main.ts
