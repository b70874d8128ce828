// The one owner-alive rule for crash recovery. Every host resource a judge process
// makes (run cgroups, slot network namespaces, work-dir and rootfs mounts, session
// containers) carries the pid of the process that owns it; a resource whose owner is
// gone was left by a crash and may be removed by whoever starts next.

/** Whether a host process exists. EPERM means it exists but belongs to someone else. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether a resource owned by `pid` is stale: its owner is gone. Our own pid is never
 * stale here (another engine of this process may be using it); resources that need
 * more (netns tokens) check that themselves.
 */
export function ownerGone(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
}

/** The owner pid in a name such as "run-<pid>-<hex>", or NaN. */
export function ownerPid(name: string, pattern: RegExp): number {
  const match = pattern.exec(name);
  return match?.[1] ? Number(match[1]) : Number.NaN;
}
