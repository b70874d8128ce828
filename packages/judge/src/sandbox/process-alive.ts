/**
 * Whether a host process exists, for crash recovery: groups, namespaces and
 * containers named after a judge process that is gone are stale. EPERM means it
 * exists but belongs to someone else.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
