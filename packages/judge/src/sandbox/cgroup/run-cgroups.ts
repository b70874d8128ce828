// The bwrap engine's cgroups: one parent group (default "sonocode") and one child per
// run, on cgroup v2 when its memory+pids controllers are usable, else on the v1
// memory/pids/cpuacct(/freezer/cpuset) hierarchies. The run group is the source of truth
// for CPU time, peak memory and OOM kills, and the way a whole process tree is killed;
// where the cpuset controller is there, it also pins the run to its slot's CPU. Which
// hierarchy, and what it supports, is found by detect.ts (createCgroupManager).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { rmdir } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ownerGone, ownerPid } from "../owner.js";
import { CgroupV1, CgroupV2, type Cgroup, type V1Dirs, type V1Known } from "./cgroup.js";
import { formatCpuList } from "./cpuset.js";
import { readPids } from "./files.js";
import { killAll, killNow } from "./kill.js";
import type { SpareDirs, V1Spares } from "./v1-spares.js";

export interface CgroupLimits {
  memoryBytes: number;
  processes: number;
}

export interface CgroupStats {
  cpuTimeMs: number;
  /** Peak memory of the tree during the run. */
  memoryPeakKb: number;
  /** The kernel OOM-killed something in the group. */
  oomKilled: boolean;
  /** Usage reached the limit at least once (reclaim may have saved it). */
  limitReached: boolean;
}

export interface RunCgroup {
  readonly cgroup: Cgroup;
  /** Sets (or changes, before anything big runs in it) the memory and pids limits. */
  setLimits(limits: CgroupLimits): void;
  /** CPU time used so far, cheap enough to poll. */
  cpuTimeMs(): number;
  stats(): CgroupStats;
  /** Kills every process in the group until it is empty (or throws after ~2 s). */
  killAll(): Promise<void>;
  /**
   * killAll() for a group whose tasks all descend from one init that joined its hierarchies in
   * the order of cgroup.procsFiles() before doing anything else (the supervisor's run init,
   * native/run-init.c, exits if a join fails): any task of the group, even an init stopped
   * half-way, is then in the first hierarchy, so one cgroup.procs read tells an empty group (the
   * common case: the supervisor answers once the run's pid namespace is gone); anything left
   * gets the full killAll().
   */
  settle(): Promise<void>;
  /** Kills what is left and removes the group. Idempotent. */
  destroy(): Promise<void>;
}

export interface RunPlacement {
  /** Pin the run to these CPUs (see cpuset.ts: slotCpus); absent: every usable CPU. Ignored where `cpuset.cpus` is null. */
  cpus?: readonly number[] | undefined;
}

/** Whether runs can be pinned: the CPUs they may be pinned to, or why not (to log once). */
export type CpusetSupport = { cpus: number[] } | { cpus: null; reason: string };

export interface CgroupManager {
  readonly version: 1 | 2;
  readonly cpuset: CpusetSupport;
  /**
   * A new run group; without limits it is unlimited until setLimits(). With
   * placement.cpus its cpuset is written before the group is returned, so before
   * any task can join it.
   */
  create(limits?: CgroupLimits, placement?: RunPlacement): RunCgroup;
  /** Removes run groups left behind by judge processes that no longer exist (crash recovery). Returns how many. */
  removeStale(): Promise<number>;
  /** Removes what it keeps between runs (v1: the shared cpuset groups, see pinFor) where no task is left in it; best effort. */
  close(): void;
}

const RUN_NAME = /^run-(\d+)-[0-9a-f]+$/;
/** v1: a shared cpuset group (pinFor): its owner's pid, the manager's prefix, an index. */
const PIN_NAME = /^pin-(\d+)-[0-9a-f]+-\d+$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Unique per process (and unguessable across restarts): a random prefix once, then a counter. */
const RUN_PREFIX = randomBytes(6).toString("hex");
let runCount = 0;

function runName(): string {
  return `run-${process.pid}-${RUN_PREFIX}${(runCount++).toString(16)}`;
}

/** Managers in this process (tests open several on one parent): each names its own pin groups. */
let managerCount = 0;

/**
 * One rmdir: true when the directory is gone, false when the group still holds tasks (EBUSY).
 * Synchronous: removing an empty group takes the kernel tens of microseconds, less than a round
 * trip through libuv's thread pool costs (the retries of removeDir wait asynchronously).
 */
function tryRemoveDir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return true;
    if (code === "EBUSY") return false;
    throw error;
  }
}

/** Removes a cgroup directory, retrying briefly: rmdir fails with EBUSY while exiting tasks are still being reaped. */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY") throw error;
      await sleep(10);
    }
  }
  throw new Error("cgroup still busy after 1 s");
}

class Run implements RunCgroup {
  private destroyed = false;
  /** Killed through the cgroup (frozen, on v1): its groups are not kept for another run (v1-spares.ts). */
  private killed = false;
  /** What setLimits() last wrote: the same limits again cost no write (a session's next group gets them ahead, supervised-session.ts). */
  private limits: CgroupLimits | null = null;
  constructor(
    readonly cgroup: Cgroup,
    private readonly dirs: string[],
    /** v1: where its pids/cpuacct/freezer groups go once it is over and empty (v1-spares.ts); dirs[0] is its memory group. */
    private readonly spare: { dirs: SpareDirs; keep: (dirs: SpareDirs) => void } | null = null,
  ) {}

  setLimits(limits: CgroupLimits): void {
    if (this.limits?.memoryBytes === limits.memoryBytes && this.limits.processes === limits.processes) return;
    this.limits = null;
    this.cgroup.setMemoryLimit(limits.memoryBytes);
    this.cgroup.setPidsLimit(limits.processes);
    this.limits = { memoryBytes: limits.memoryBytes, processes: limits.processes };
  }
  cpuTimeMs(): number {
    // Polled while the run goes on: also the moment to sample memory where the kernel keeps no peak.
    this.cgroup.sample();
    return Math.round(this.cgroup.cpuUsageNs() / 1e6);
  }
  stats(): CgroupStats {
    return {
      cpuTimeMs: this.cpuTimeMs(),
      memoryPeakKb: Math.ceil(this.cgroup.memoryPeak() / 1024),
      oomKilled: this.cgroup.oomKills() > 0,
      limitReached: this.cgroup.limitHits() > 0,
    };
  }
  killAll(): Promise<void> {
    this.killed = true;
    return killAll(this.cgroup);
  }
  async settle(): Promise<void> {
    const first = this.cgroup.procsFiles()[0];
    if (first !== undefined && readPids(first).length === 0) return;
    await this.killAll();
  }
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    // Its memory group removed at once: no task is left in any of its groups (every task joined memory first).
    if (this.spare && !this.killed && this.dirs[0] !== undefined && tryRemoveDir(this.dirs[0])) {
      this.destroyed = true;
      this.cgroup.close();
      this.spare.keep(this.spare.dirs);
      return;
    }
    // A run's group is normally empty here (the run ended with killAll): the kernel refuses to
    // remove a group that still holds a task (EBUSY), so that refusal is the check, and only
    // then are the tasks killed. An empty group costs its rmdirs and nothing else.
    for (const [index, dir] of this.dirs.entries()) {
      if (tryRemoveDir(dir)) continue;
      await this.killAll();
      for (const rest of this.dirs.slice(index)) await removeDir(rest);
      break;
    }
    this.cgroup.close();
    this.destroyed = true;
  }
}

export class Manager implements CgroupManager {
  /** v1: what every run group would otherwise read again (swap accounting, the parent's cpuset.mems); read at the first create. */
  private v1Known: V1Known | null = null;
  /** v1: the shared cpuset group of each CPU list (pinFor), by formatCpuList. */
  private pins = new Map<string, string>();
  private pinCount = 0;
  private readonly pinPrefix = `pin-${process.pid}-${RUN_PREFIX}${(managerCount++).toString(16)}-`;

  constructor(
    readonly version: 1 | 2,
    /** v2: { unified }; v1: one parent per controller. */
    private readonly parents: { v2: string } | { v1: V1Dirs },
    readonly cpuset: CpusetSupport,
    /** v1: the cpuset hierarchy carries none of memory, pids, cpuacct, freezer (see tryV1). */
    private readonly cpusetAlone = false,
    /** v1: finished runs' pids/cpuacct/freezer groups, for later runs (v1-spares.ts); null where a hierarchy is co-mounted with memory's or the cpuset's. */
    private readonly spares: V1Spares | null = null,
  ) {}

  private knownV1(p: V1Dirs): V1Known {
    if (!this.v1Known) {
      this.v1Known = {
        // A host-wide setting (swapaccount): the parent has the files exactly when its children do.
        memsw: existsSync(join(p.memory, "memory.memsw.limit_in_bytes")),
        ...(p.cpuset && this.cpuset.cpus ? { parentMems: readFileSync(join(p.cpuset, "cpuset.mems"), "utf8").trim() } : {}),
      };
    }
    return this.v1Known;
  }

  private parentDirs(): string[] {
    if ("v2" in this.parents) return [this.parents.v2];
    const { memory, pids, cpuacct, freezer, cpuset } = this.parents.v1;
    return [...new Set([memory, pids, cpuacct, ...(freezer ? [freezer] : []), ...(cpuset ? [cpuset] : [])])];
  }

  /**
   * v1: the cpuset group every run pinned to these CPUs joins, made at the first such run and kept
   * (close() removes it). A v1 cpuset group only pins: the run's tasks are counted, limited,
   * frozen and killed through its own memory/pids/cpuacct/freezer groups, and no task can leave
   * those (cgroupfs is not in the sandbox, and the run's init joins them before the pin). A group
   * of its own per run cost a mkdir, two writes and an rmdir, ~70 us of the judge's CPU per run
   * here (the costliest of the five hierarchies; memory's ~50 us is next), and one more hierarchy
   * to list on every kill. v2 is unchanged: there the cpuset is the run group's own (one tree).
   */
  private pinFor(p: V1Dirs & { cpuset: string }, cpus: readonly number[]): string {
    const list = formatCpuList(cpus);
    const known = this.pins.get(list);
    if (known) return known;
    // Never a name used before (close() may have left one still in use): a fresh group per index.
    const dir = join(p.cpuset, `${this.pinPrefix}${this.pinCount++}`);
    mkdirSync(dir);
    // A v1 cpuset starts with empty cpus and mems, and a task cannot join it until both are set.
    writeFileSync(join(dir, "cpuset.mems"), this.knownV1(p).parentMems ?? readFileSync(join(p.cpuset, "cpuset.mems"), "utf8").trim());
    writeFileSync(join(dir, "cpuset.cpus"), list);
    this.pins.set(list, dir);
    return dir;
  }

  /** v1: runs share a pin group (pinFor) unless the cpuset hierarchy is co-mounted with a controller of theirs (tryV1). */
  private pinnable(p: V1Dirs): p is V1Dirs & { cpuset: string } {
    return p.cpuset != null && this.cpusetAlone;
  }

  /** fresh: a new run group (v1: joined to the pin group of `cpus`); else a stale one to remove, with a cpuset group of its own as runs had before the pin groups. */
  private open(name: string, fresh = false, cpus?: readonly number[], spare?: SpareDirs | null): { cgroup: Cgroup; dirs: string[] } {
    if ("v2" in this.parents) {
      const dir = join(this.parents.v2, name);
      return { cgroup: new CgroupV2(dir), dirs: [dir] };
    }
    const p = this.parents.v1;
    const dirs: V1Dirs = {
      memory: join(p.memory, name),
      pids: spare?.pids ?? join(p.pids, name),
      cpuacct: spare?.cpuacct ?? join(p.cpuacct, name),
      freezer: spare ? spare.freezer : p.freezer ? join(p.freezer, name) : null,
      cpuset: p.cpuset && !(fresh && this.pinnable(p)) ? join(p.cpuset, name) : null,
      pin: fresh && cpus && this.pinnable(p) ? this.pinFor(p, cpus) : null,
    };
    const cgroup = fresh ? new CgroupV1(dirs, { ...this.knownV1(p), fresh: true }) : new CgroupV1(dirs);
    return { cgroup, dirs: cgroup.all() };
  }

  create(limits?: CgroupLimits, placement?: RunPlacement): RunCgroup {
    try {
      return this.createOnce(limits, placement);
    } catch (error) {
      // What was read once may have changed since (an administrator moved the parent's memory nodes): read it again, once.
      if (!this.v1Known) throw error;
      this.v1Known = null;
      this.pins = new Map();
      return this.createOnce(limits, placement);
    }
  }

  private createOnce(limits?: CgroupLimits, placement?: RunPlacement): RunCgroup {
    const cpus = this.cpuset.cpus ? (placement?.cpus && placement.cpus.length > 0 ? placement.cpus : this.cpuset.cpus) : undefined;
    const spare = this.spares?.take(limits !== undefined) ?? null;
    const { cgroup, dirs } = this.open(runName(), true, cpus, spare);
    const made: string[] = [];
    try {
      for (const dir of dirs) {
        if (spare && (dir === spare.pids || dir === spare.cpuacct || dir === spare.freezer)) continue;
        mkdirSync(dir);
        made.push(dir);
      }
      const spares = this.spares;
      const keep = spares && cgroup instanceof CgroupV1 ? { dirs: { pids: cgroup.dirs.pids, cpuacct: cgroup.dirs.cpuacct, freezer: cgroup.dirs.freezer }, keep: (kept: SpareDirs) => spares.give(kept) } : null;
      const run = new Run(cgroup, dirs, keep);
      // The run group's own cpuset (v2; v1 where the cpuset is co-mounted), before anything joins; else the pin open() named, already pinned.
      if (cpus && !(cgroup instanceof CgroupV1 && cgroup.dirs.pin)) cgroup.setCpus(cpus);
      if (limits) run.setLimits(limits);
      return run;
    } catch (error) {
      for (const dir of made.reverse()) {
        try {
          rmdirSync(dir);
        } catch {
          /* best effort */
        }
      }
      // Empty still (nothing joined a group that was never handed out): kept.
      if (spare) this.spares?.give(spare);
      throw error;
    }
  }

  close(): void {
    this.spares?.close();
    for (const dir of this.pins.values()) {
      try {
        tryRemoveDir(dir);
      } catch {
        /* best effort: left for the next start's removeStale */
      }
    }
    this.pins = new Map();
  }

  async removeStale(): Promise<number> {
    const names = new Set<string>();
    const pins: string[] = [];
    for (const parent of this.parentDirs()) {
      try {
        for (const name of readdirSync(parent)) {
          if (ownerGone(ownerPid(name, RUN_NAME))) names.add(name);
          else if (ownerGone(ownerPid(name, PIN_NAME))) pins.push(join(parent, name));
        }
      } catch {
        /* no parent yet */
      }
    }
    let removed = 0;
    for (const name of names) {
      const { cgroup, dirs } = this.open(name);
      try {
        killNow(cgroup);
        for (const dir of dirs) if (existsSync(dir)) await removeDir(dir);
        removed++;
      } catch {
        /* left for the next start */
      }
    }
    // After the run groups: their tasks were the pin groups' only ones, and are killed now.
    for (const dir of pins) {
      try {
        await removeDir(dir);
        removed++;
      } catch {
        /* left for the next start */
      }
    }
    return removed;
  }
}
