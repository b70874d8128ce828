// One cgroup, v1 or v2, behind one interface: what the engines read (pids, CPU time,
// memory usage and peak, OOM kills, limit hits) and write (limits, freezer, kill).
// The bwrap engine's run groups (run-cgroups.ts) and the Docker engine's container
// groups (container-cgroup.ts) are both this, so limits and measurements mean the same
// on both engines.
import { closeSync, existsSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { formatCpuList } from "./cpuset.js";
import { readKeyed, readNumber, readPids, tryWrite, write } from "./files.js";

export interface Cgroup {
  readonly version: 1 | 2;
  /** Where the files live, for logs. */
  readonly describe: string;
  /** Host pids of every process in the group. */
  pids(): number[];
  /** The cgroup.procs files a process writes "0" to in order to join the group itself (the bwrap supervisor's run init on v1, native/supervisor.c). */
  procsFiles(): string[];
  /** CPU time (user+sys) used by the group so far, in ns. */
  cpuUsageNs(): number;
  /** Current memory charge (anon + page cache + tmpfs) in bytes. */
  memoryUsage(): number;
  /** Starts a new peak window at the current usage. */
  resetPeak(): void;
  /** Peak charge since creation or since resetPeak(). */
  memoryPeak(): number;
  /** Keeps a sampled peak up to date where the kernel cannot reset its own (v2 before 6.12); call while a run goes on. */
  sample(): void;
  /** Processes the kernel OOM-killed in the group so far. */
  oomKills(): number;
  /** Times the memory limit was hit so far (reclaim may have saved the run). */
  limitHits(): number;
  /** Memory limit with no swap (memory+swap = memory). */
  setMemoryLimit(bytes: number): void;
  setPidsLimit(count: number): void;
  /**
   * Pins the group to these CPUs (cpuset.cpus; v1 also copies cpuset.mems from the
   * parent, without which no task may join). Call before any task joins: a task
   * moved in later keeps running where it is until the scheduler next places it.
   * Throws where the group has no cpuset controller.
   */
  setCpus(cpus: readonly number[]): void;
  /** Drops what the kernel can reclaim (page cache) from the group's charge; anonymous memory and tmpfs stay. */
  reclaim(): void;
  /** Freezes every task; resolves true once frozen, false if there is no freezer or it did not settle in ~1 s. */
  freeze(): Promise<boolean>;
  thaw(): void;
  /** Kills every task at once where the kernel can (v2 cgroup.kill, 5.14+); false = use freeze-kill-thaw. */
  killAtomically(): boolean;
  /** Releases open files. */
  close(): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (check()) return true;
    await sleep(i < 20 ? 0 : 5);
  }
  return false;
}

export interface V1Dirs {
  memory: string;
  pids: string;
  cpuacct: string;
  freezer: string | null;
  /** Only where the runs are pinned (run-cgroups.ts); a Docker container is pinned by the daemon. */
  cpuset?: string | null;
  /**
   * A cpuset group shared by every run pinned to the same CPUs (run-cgroups.ts: one per CPU list,
   * made once): joined last (procsFiles), never owned by the run: not read for its tasks, not
   * removed with it. Pinning is all a v1 cpuset group does, and a run's tasks are all in its
   * own memory/pids/cpuacct/freezer groups, which is where they are counted and killed.
   */
  pin?: string | null;
}

/**
 * What the creator of a v1 group already knows, so the group does not read it again per run
 * (run-cgroups.ts makes a group per run): whether swap accounting is on (a host-wide setting),
 * the parent's cpuset.mems, and that the group is new (its memory limits are still unlimited).
 */
export interface V1Known {
  memsw?: boolean;
  parentMems?: string;
  fresh?: boolean;
}

export class CgroupV1 implements Cgroup {
  readonly version = 1 as const;
  readonly describe: string;
  private memswKnown: boolean | null;
  /** The memory limit this object last wrote (Infinity on a new group), or null: read it from the file. Only the group's creator writes it. */
  private memoryLimit: number | null;

  constructor(
    readonly dirs: V1Dirs,
    private readonly known: V1Known = {},
  ) {
    this.describe = dirs.memory;
    this.memswKnown = known.memsw ?? null;
    this.memoryLimit = known.fresh ? Number.POSITIVE_INFINITY : null;
  }

  /** Swap accounting on (memsw files exist); probed on first use, once the group exists. */
  private get memsw(): boolean {
    this.memswKnown ??= existsSync(join(this.dirs.memory, "memory.memsw.limit_in_bytes"));
    return this.memswKnown;
  }

  /** Every hierarchy the group lives in (some controllers may share one). */
  all(): string[] {
    const { memory, pids, cpuacct, freezer, cpuset } = this.dirs;
    return [...new Set([memory, pids, cpuacct, ...(freezer ? [freezer] : []), ...(cpuset ? [cpuset] : [])])];
  }
  pids(): number[] {
    const found = new Set<number>();
    for (const dir of this.all()) for (const pid of readPids(join(dir, "cgroup.procs"))) found.add(pid);
    return [...found];
  }
  procsFiles(): string[] {
    const files = this.all().map((dir) => join(dir, "cgroup.procs"));
    if (this.dirs.pin) files.push(join(this.dirs.pin, "cgroup.procs"));
    return files;
  }
  cpuUsageNs(): number {
    return readNumber(join(this.dirs.cpuacct, "cpuacct.usage"));
  }
  memoryUsage(): number {
    return readNumber(join(this.dirs.memory, "memory.usage_in_bytes"));
  }
  resetPeak(): void {
    // Writing 0 resets the high-water mark to the current usage.
    write(join(this.dirs.memory, "memory.max_usage_in_bytes"), 0);
    if (this.memsw) write(join(this.dirs.memory, "memory.memsw.max_usage_in_bytes"), 0);
  }
  memoryPeak(): number {
    const peak = readNumber(join(this.dirs.memory, "memory.max_usage_in_bytes"));
    return this.memsw ? Math.max(peak, readNumber(join(this.dirs.memory, "memory.memsw.max_usage_in_bytes"))) : peak;
  }
  sample(): void {}
  oomKills(): number {
    // "oom_kill N" exists since Linux 4.13.
    return readKeyed(join(this.dirs.memory, "memory.oom_control")).get("oom_kill") ?? 0;
  }
  limitHits(): number {
    return readNumber(join(this.dirs.memory, "memory.failcnt"));
  }
  setMemoryLimit(bytes: number): void {
    const mem = join(this.dirs.memory, "memory.limit_in_bytes");
    const memsw = join(this.dirs.memory, "memory.memsw.limit_in_bytes");
    if (!this.memsw) return write(mem, bytes);
    // The kernel wants limit <= memsw.limit at every moment: raise memsw first when growing, lower it last when shrinking.
    const current = this.memoryLimit ?? readNumber(mem);
    this.memoryLimit = null; // unknown until both writes went through
    if (bytes >= current) {
      write(memsw, bytes);
      write(mem, bytes);
    } else {
      write(mem, bytes);
      write(memsw, bytes);
    }
    this.memoryLimit = bytes;
  }
  setPidsLimit(count: number): void {
    write(join(this.dirs.pids, "pids.max"), count);
  }
  setCpus(cpus: readonly number[]): void {
    const dir = this.dirs.cpuset;
    if (!dir) throw new Error("this cgroup has no cpuset hierarchy");
    // A v1 cpuset starts with empty cpus and mems, and a task cannot join it until both are set.
    write(join(dir, "cpuset.mems"), this.known.parentMems ?? readFileSync(join(dirname(dir), "cpuset.mems"), "utf8").trim());
    write(join(dir, "cpuset.cpus"), formatCpuList(cpus));
  }
  reclaim(): void {
    // Reclaims as much as it can with tasks inside (page cache; not anon or tmpfs without swap).
    tryWrite(join(this.dirs.memory, "memory.force_empty"), 0);
  }
  async freeze(): Promise<boolean> {
    const freezer = this.dirs.freezer;
    if (!freezer || !tryWrite(join(freezer, "freezer.state"), "FROZEN")) return false;
    return waitFor(() => {
      try {
        return readFileSync(join(freezer, "freezer.state"), "utf8").trim() === "FROZEN";
      } catch {
        return true; // the group is gone: nothing left to freeze
      }
    });
  }
  thaw(): void {
    if (this.dirs.freezer) tryWrite(join(this.dirs.freezer, "freezer.state"), "THAWED");
  }
  killAtomically(): boolean {
    return false;
  }
  close(): void {}
}

export class CgroupV2 implements Cgroup {
  readonly version = 2 as const;
  readonly describe: string;
  /** memory.peak resets per open file (Linux >= 6.12); null until resetPeak() needs it, or when the kernel cannot. */
  private peakFd: number | null = null;
  private peakMode: "file" | "fd" | "sampled" = "file";
  private sampledPeak = 0;
  private peakProbed = false;

  constructor(readonly dir: string) {
    this.describe = dir;
  }

  pids(): number[] {
    return readPids(join(this.dir, "cgroup.procs"));
  }
  procsFiles(): string[] {
    return [join(this.dir, "cgroup.procs")];
  }
  cpuUsageNs(): number {
    return (readKeyed(join(this.dir, "cpu.stat")).get("usage_usec") ?? 0) * 1000;
  }
  memoryUsage(): number {
    return readNumber(join(this.dir, "memory.current"));
  }
  resetPeak(): void {
    if (this.peakMode === "file") {
      try {
        const fd = openSync(join(this.dir, "memory.peak"), "r+");
        try {
          writeSync(fd, "reset");
          this.peakFd = fd;
          this.peakMode = "fd";
        } catch {
          closeSync(fd);
          this.peakMode = "sampled";
        }
      } catch {
        this.peakMode = "sampled";
      }
    }
    if (this.peakFd !== null) writeSync(this.peakFd, "reset");
    this.sampledPeak = this.memoryUsage();
  }
  memoryPeak(): number {
    if (this.peakFd !== null) {
      const buf = Buffer.alloc(64);
      const n = readSync(this.peakFd, buf, 0, buf.length, 0);
      return Number(buf.subarray(0, n).toString("utf8").trim());
    }
    if (this.peakMode === "sampled") return Math.max(this.sampledPeak, this.memoryUsage());
    try {
      return readNumber(join(this.dir, "memory.peak"));
    } catch {
      // memory.peak appeared in Linux 5.19; without it the current usage is the best we have.
      return this.memoryUsage();
    }
  }
  sample(): void {
    // Before Linux 5.19 there is no memory.peak at all: the sampled peak is all there is.
    if (this.peakMode === "file" && !this.peakProbed) {
      this.peakProbed = true;
      if (!existsSync(join(this.dir, "memory.peak"))) this.peakMode = "sampled";
    }
    if (this.peakMode === "sampled") this.sampledPeak = Math.max(this.sampledPeak, this.memoryUsage());
  }
  oomKills(): number {
    return readKeyed(join(this.dir, "memory.events")).get("oom_kill") ?? 0;
  }
  limitHits(): number {
    const events = readKeyed(join(this.dir, "memory.events"));
    return (events.get("max") ?? 0) + (events.get("oom") ?? 0);
  }
  setMemoryLimit(bytes: number): void {
    write(join(this.dir, "memory.max"), bytes);
    // No swap: "memory + swap = memory", so the limit is a real limit.
    tryWrite(join(this.dir, "memory.swap.max"), 0);
  }
  setPidsLimit(count: number): void {
    write(join(this.dir, "pids.max"), count);
  }
  setCpus(cpus: readonly number[]): void {
    // Empty cpuset.mems inherits the parent's, so only the CPUs are written.
    write(join(this.dir, "cpuset.cpus"), formatCpuList(cpus));
  }
  reclaim(): void {
    // memory.reclaim (5.19+) answers EAGAIN when it could not reclaim all it was asked for: that is fine here.
    tryWrite(join(this.dir, "memory.reclaim"), String(1 << 30) + "\n");
  }
  async freeze(): Promise<boolean> {
    if (!tryWrite(join(this.dir, "cgroup.freeze"), 1)) return false;
    return waitFor(() => (readKeyed(join(this.dir, "cgroup.events")).get("frozen") ?? 1) === 1);
  }
  thaw(): void {
    tryWrite(join(this.dir, "cgroup.freeze"), 0);
  }
  killAtomically(): boolean {
    return tryWrite(join(this.dir, "cgroup.kill"), 1);
  }
  close(): void {
    if (this.peakFd !== null) closeSync(this.peakFd);
    this.peakFd = null;
  }
}
