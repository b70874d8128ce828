// The one way the engines empty a cgroup: atomically where the kernel can (v2
// cgroup.kill), else freeze, SIGKILL every task, thaw, so nothing can fork or exit
// (and free its pid for reuse) between listing the tasks and killing them. `keep`
// spares tasks that must outlive a run (the Docker container's init).
import type { Cgroup } from "./cgroup.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

/** SIGKILLs every process of the group (but `keep`) until none is left; throws if some survive ~2 s. */
export async function killAll(cg: Cgroup, keep: ReadonlySet<number> = new Set()): Promise<void> {
  const others = () => cg.pids().filter((p) => !keep.has(p) && p !== process.pid);
  for (let attempt = 0; attempt < 50; attempt++) {
    if (others().length === 0) return;
    if (keep.size > 0 || !cg.killAtomically()) {
      try {
        await cg.freeze();
        killPids(others());
      } finally {
        cg.thaw();
      }
    }
    for (let i = 0; i < 40 && others().length > 0; i++) await sleep(i < 10 ? 1 : 5);
  }
  throw new Error(`processes survive SIGKILL in ${cg.describe}: ${others().join(",")}`);
}

/** Kills what a crashed judge left in a group without waiting (crash recovery). */
export function killNow(cg: Cgroup): void {
  if (!cg.killAtomically()) killPids(cg.pids());
}
