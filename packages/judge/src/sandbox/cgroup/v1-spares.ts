// cgroup v1: the pids, cpuacct and freezer groups of finished runs, kept for later runs
// (run-cgroups.ts). A run group is five directories on v1 (memory, pids, cpuacct, freezer,
// cpuset), each a mkdir before the run and an rmdir after it; pids, cpuacct and freezer
// cost ~15-18 us of the judge's CPU each per run here. They hold nothing from a run once
// its tasks are gone but counters, which are reset (cpuacct.usage) or rewritten (pids.max)
// for the next one. The memory group stays one per run: the page cache a run leaves
// charged to it would count against the next run's limit and peak.
//
// A set is kept only when it is known to be empty and thawed: its run's memory group was
// removed at the first try (every task of a run joins memory first, run-init.c, so an empty
// memory group means an empty run), and the run was never killed through the cgroup (a
// freeze whose thaw did not go through would freeze the next run's init).
import { rmdirSync } from "node:fs";
import { join } from "node:path";
import { write } from "./files.js";

export interface SpareDirs {
  pids: string;
  cpuacct: string;
  freezer: string | null;
}

/** Kept sets beyond this are removed (two per session are in use at once: the run and the next one's, prepared). */
const MAX_SPARES = 16;

export class V1Spares {
  private readonly spares: SpareDirs[] = [];
  /** After close(): a run that ends later (a session still open when its engine closed) removes its set. */
  private closed = false;

  /** An empty set for a new run, its counters reset, or null (make new ones). Without limits its pids.max is unlimited, as a new group's. */
  take(limited: boolean): SpareDirs | null {
    const spare = this.spares.pop();
    if (!spare) return null;
    try {
      write(join(spare.cpuacct, "cpuacct.usage"), 0);
      if (!limited) write(join(spare.pids, "pids.max"), "max");
      return spare;
    } catch {
      // Gone or refused (an administrator removed it): not used, new groups instead.
      this.remove(spare);
      return null;
    }
  }

  /** A finished run's set: empty and thawed (see the file comment). */
  give(spare: SpareDirs): void {
    if (this.closed || this.spares.length >= MAX_SPARES) this.remove(spare);
    else this.spares.push(spare);
  }

  /** Removes every kept set; best effort (a leftover goes with the next start's removeStale: its name is a run's). */
  close(): void {
    this.closed = true;
    for (const spare of this.spares.splice(0)) this.remove(spare);
  }

  private remove(spare: SpareDirs): void {
    for (const dir of [spare.pids, spare.cpuacct, spare.freezer]) {
      if (!dir) continue;
      try {
        rmdirSync(dir);
      } catch {
        /* best effort */
      }
    }
  }
}
