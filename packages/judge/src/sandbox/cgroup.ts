// cgroup control for sandboxed runs: one parent group (default "sonocode") and one
// child per run, on cgroup v2 when its memory+pids controllers are usable, else on
// the v1 memory/pids/cpuacct hierarchies. The cgroup is the source of truth for
// CPU time, peak memory and OOM kills, and the way we kill a whole process tree.
import { readFileSync, writeFileSync, existsSync, mkdirSync, rmdirSync, readdirSync } from "node:fs";
import { rmdir } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { processAlive } from "./process-alive.js";

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
  /** Sets (or changes, before anything big runs in it) the memory and pids limits. */
  setLimits(limits: CgroupLimits): void;
  /** Moves a process (and its future children) into the group. */
  attach(pid: number): void;
  /** The cgroup.procs files a process writes "0" to in order to join the group itself (native/launcher.c). */
  procsFiles(): string[];
  /** CPU time used so far, cheap enough to poll. */
  cpuTimeMs(): number;
  stats(): CgroupStats;
  /** Pids still in the group. */
  pids(): number[];
  /** Kills every process in the group until it is empty (or throws after ~2 s). */
  killAll(): Promise<void>;
  /** Kills what is left and removes the group. Idempotent. */
  destroy(): Promise<void>;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** A new run group; without limits it is unlimited until setLimits(). */
  create(limits?: CgroupLimits): RunCgroup;
  /** Removes run groups left behind by judge processes that no longer exist (crash recovery). Returns how many. */
  removeStale(): Promise<number>;
}

/** Run groups under parent whose owning judge process is gone: emptied and removed. */
async function removeStaleIn(parent: string): Promise<number> {
  let removed = 0;
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return 0;
  }
  for (const name of names) {
    const pid = Number(/^run-(\d+)-[0-9a-f]+$/.exec(name)?.[1] ?? NaN);
    // Our own pid is never stale: another engine in this process may be running in it.
    if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    const dir = join(parent, name);
    try {
      killPids(readPids(join(dir, "cgroup.procs")));
      await removeDir(dir);
      removed++;
    } catch {
      /* left for the next start */
    }
  }
  return removed;
}

interface MountInfo {
  path: string;
  type: "cgroup" | "cgroup2";
  options: string[];
}

function readMounts(): MountInfo[] {
  const text = readFileSync("/proc/self/mounts", "utf8");
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    const [, path, type, opts] = line.split(" ");
    if (!path || (type !== "cgroup" && type !== "cgroup2")) continue;
    out.push({ path: path.replace(/\\040/g, " "), type, options: (opts ?? "").split(",") });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readInt(file: string): number {
  return Number(readFileSync(file, "utf8").trim());
}

function readKeyed(file: string): Map<string, number> {
  const map = new Map<string, number>();
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return map;
  }
  for (const line of text.split("\n")) {
    const [key, value] = line.split(" ");
    if (key && value !== undefined) map.set(key, Number(value));
  }
  return map;
}

function readPids(file: string): number[] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

function runName(): string {
  return `run-${process.pid}-${randomBytes(6).toString("hex")}`;
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

// ---- cgroup v2 --------------------------------------------------------------

class V2Run implements RunCgroup {
  private destroyed = false;
  constructor(private readonly dir: string) {}

  setLimits(limits: CgroupLimits): void {
    writeFileSync(join(this.dir, "memory.max"), String(limits.memoryBytes));
    // No swap: "memory + swap = memory", so the limit is a real limit.
    if (existsSync(join(this.dir, "memory.swap.max"))) writeFileSync(join(this.dir, "memory.swap.max"), "0");
    writeFileSync(join(this.dir, "pids.max"), String(limits.processes));
  }
  attach(pid: number): void {
    writeFileSync(join(this.dir, "cgroup.procs"), String(pid));
  }
  procsFiles(): string[] {
    return [join(this.dir, "cgroup.procs")];
  }
  cpuTimeMs(): number {
    return Math.round((readKeyed(join(this.dir, "cpu.stat")).get("usage_usec") ?? 0) / 1000);
  }
  stats(): CgroupStats {
    const events = readKeyed(join(this.dir, "memory.events"));
    let peak = 0;
    try {
      peak = readInt(join(this.dir, "memory.peak"));
    } catch {
      // memory.peak appeared in Linux 5.19; without it the current usage is the best we have.
      peak = readInt(join(this.dir, "memory.current"));
    }
    return {
      cpuTimeMs: this.cpuTimeMs(),
      memoryPeakKb: Math.ceil(peak / 1024),
      oomKilled: (events.get("oom_kill") ?? 0) > 0,
      limitReached: (events.get("max") ?? 0) > 0 || (events.get("oom") ?? 0) > 0,
    };
  }
  pids(): number[] {
    return readPids(join(this.dir, "cgroup.procs"));
  }
  async killAll(): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const pids = this.pids();
      if (pids.length === 0) return;
      try {
        // cgroup.kill (5.14+) kills atomically, racing no fork.
        writeFileSync(join(this.dir, "cgroup.kill"), "1");
      } catch {
        killPids(pids);
      }
      await sleep(attempt < 10 ? 1 : 10);
    }
    throw new Error("processes survived cgroup kill");
  }
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    if (existsSync(this.dir)) {
      await this.killAll();
      await removeDir(this.dir);
    }
    this.destroyed = true;
  }
}

class V2Manager implements CgroupManager {
  readonly version = 2 as const;
  constructor(private readonly parent: string) {}
  removeStale(): Promise<number> {
    return removeStaleIn(this.parent);
  }
  create(limits?: CgroupLimits): RunCgroup {
    const dir = join(this.parent, runName());
    mkdirSync(dir);
    const run = new V2Run(dir);
    try {
      if (limits) run.setLimits(limits);
    } catch (error) {
      rmdirSync(dir);
      throw error;
    }
    return run;
  }
}

// ---- cgroup v1 --------------------------------------------------------------

interface V1Dirs {
  memory: string;
  pids: string;
  cpuacct: string;
  freezer: string | null;
}

class V1Run implements RunCgroup {
  private destroyed = false;
  constructor(private readonly dirs: V1Dirs) {}

  setLimits(limits: CgroupLimits): void {
    const { memory, pids } = this.dirs;
    // memsw must stay >= the plain limit: raise memsw first when growing, lower it last when shrinking.
    const memsw = join(memory, "memory.memsw.limit_in_bytes");
    const hasMemsw = existsSync(memsw);
    const current = readInt(join(memory, "memory.limit_in_bytes"));
    if (hasMemsw && limits.memoryBytes > current) writeFileSync(memsw, String(limits.memoryBytes));
    writeFileSync(join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
    if (hasMemsw) writeFileSync(memsw, String(limits.memoryBytes));
    writeFileSync(join(pids, "pids.max"), String(limits.processes));
  }
  private all(): string[] {
    const { memory, pids, cpuacct, freezer } = this.dirs;
    return [...new Set([memory, pids, cpuacct, ...(freezer ? [freezer] : [])])];
  }
  attach(pid: number): void {
    for (const dir of this.all()) writeFileSync(join(dir, "cgroup.procs"), String(pid));
  }
  procsFiles(): string[] {
    return this.all().map((dir) => join(dir, "cgroup.procs"));
  }
  cpuTimeMs(): number {
    return Math.round(readInt(join(this.dirs.cpuacct, "cpuacct.usage")) / 1e6);
  }
  stats(): CgroupStats {
    const oom = readKeyed(join(this.dirs.memory, "memory.oom_control"));
    const memsw = join(this.dirs.memory, "memory.memsw.max_usage_in_bytes");
    const peak = Math.max(
      readInt(join(this.dirs.memory, "memory.max_usage_in_bytes")),
      existsSync(memsw) ? readInt(memsw) : 0,
    );
    return {
      cpuTimeMs: this.cpuTimeMs(),
      memoryPeakKb: Math.ceil(peak / 1024),
      oomKilled: (oom.get("oom_kill") ?? 0) > 0,
      limitReached: readInt(join(this.dirs.memory, "memory.failcnt")) > 0,
    };
  }
  pids(): number[] {
    const found = new Set<number>();
    for (const dir of this.all()) for (const pid of readPids(join(dir, "cgroup.procs"))) found.add(pid);
    return [...found];
  }
  async killAll(): Promise<void> {
    const freezer = this.dirs.freezer;
    for (let attempt = 0; attempt < 200; attempt++) {
      const pids = this.pids();
      if (pids.length === 0) return;
      // Freezing first means nothing can fork or exit (and free its pid for reuse) between listing and killing.
      if (freezer) {
        try {
          writeFileSync(join(freezer, "freezer.state"), "FROZEN");
        } catch {
          /* kill anyway */
        }
      }
      killPids(this.pids());
      if (freezer) {
        try {
          writeFileSync(join(freezer, "freezer.state"), "THAWED");
        } catch {
          /* nothing */
        }
      }
      await sleep(attempt < 10 ? 1 : 10);
    }
    throw new Error("processes survived cgroup kill");
  }
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await this.killAll();
    for (const dir of this.all()) await removeDir(dir);
    this.destroyed = true;
  }
}

class V1Manager implements CgroupManager {
  readonly version = 1 as const;
  constructor(private readonly parents: V1Dirs) {}
  async removeStale(): Promise<number> {
    let removed = 0;
    for (const dir of new Set(Object.values(this.parents).filter((d): d is string => d !== null))) removed += await removeStaleIn(dir);
    return removed;
  }
  create(limits?: CgroupLimits): RunCgroup {
    const name = runName();
    const dirs: V1Dirs = {
      memory: join(this.parents.memory, name),
      pids: join(this.parents.pids, name),
      cpuacct: join(this.parents.cpuacct, name),
      freezer: this.parents.freezer ? join(this.parents.freezer, name) : null,
    };
    const made: string[] = [];
    const run = new V1Run(dirs);
    try {
      for (const dir of new Set(Object.values(dirs).filter((d): d is string => d !== null))) {
        mkdirSync(dir);
        made.push(dir);
      }
      if (limits) run.setLimits(limits);
    } catch (error) {
      for (const dir of made.reverse()) {
        try {
          rmdirSync(dir);
        } catch {
          /* best effort */
        }
      }
      throw error;
    }
    return run;
  }
}

// ---- detection --------------------------------------------------------------

export interface CgroupDetectOptions {
  /** Parent group path relative to each hierarchy's mount point. Default "sonocode". */
  parent?: string;
  /** Force a version instead of detecting. */
  version?: 1 | 2;
}

function ensureDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
}

function tryV2(mounts: MountInfo[], parent: string): CgroupManager | null {
  const mount = mounts.find((m) => m.type === "cgroup2");
  if (!mount) return null;
  let controllers: string[];
  try {
    controllers = readFileSync(join(mount.path, "cgroup.controllers"), "utf8").trim().split(/\s+/);
  } catch {
    return null;
  }
  // A hybrid host (like v1 controllers + an empty unified tree) has no memory here.
  if (!controllers.includes("memory") || !controllers.includes("pids")) return null;
  const dir = join(mount.path, parent);
  ensureDir(dir);
  // Enable the controllers down the path so run groups get memory/pids/cpu files.
  const segments = parent.split("/").filter(Boolean);
  let current = mount.path;
  for (const segment of ["", ...segments]) {
    current = segment ? join(current, segment) : current;
    try {
      writeFileSync(join(current, "cgroup.subtree_control"), "+memory +pids +cpu");
    } catch {
      /* root may refuse "+cpu" under some setups; memory and pids are checked on create */
    }
  }
  return new V2Manager(dir);
}

function tryV1(mounts: MountInfo[], parent: string): CgroupManager | null {
  const find = (controller: string) => mounts.find((m) => m.type === "cgroup" && m.options.includes(controller))?.path;
  const memory = find("memory");
  const pids = find("pids");
  const cpuacct = find("cpuacct");
  const freezer = find("freezer");
  if (!memory || !pids || !cpuacct) return null;
  const parents: V1Dirs = {
    memory: join(memory, parent),
    pids: join(pids, parent),
    cpuacct: join(cpuacct, parent),
    freezer: freezer ? join(freezer, parent) : null,
  };
  for (const dir of Object.values(parents)) if (dir) ensureDir(dir);
  // Hierarchical accounting so a run's usage also counts in the parent.
  try {
    writeFileSync(join(parents.memory, "memory.use_hierarchy"), "1");
  } catch {
    /* already inherited from the root, or not changeable once children exist */
  }
  return new V1Manager(parents);
}

/** Detects the usable cgroup hierarchy; throws a readable error when none is usable. */
export async function createCgroupManager(options: CgroupDetectOptions = {}): Promise<CgroupManager> {
  const parent = options.parent ?? "sonocode";
  if (parent.split("/").includes("..")) throw new Error("cgroup parent must not contain '..'");
  const mounts = readMounts();
  const v2 = options.version === 1 ? null : tryV2(mounts, parent);
  if (v2) return v2;
  const v1 = options.version === 2 ? null : tryV1(mounts, parent);
  if (v1) return v1;
  throw new Error("no usable cgroup hierarchy: need cgroup v2 with memory+pids, or v1 memory, pids and cpuacct mounted and writable");
}
