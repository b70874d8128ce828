// Host-side view of ONE Docker container's cgroup, for the docker engine.
// Docker gives the container a memory limit, but the judge needs per-run figures
// (CPU time, peak memory, OOM kills) and a way to kill every process of a run
// while the container keeps living. The daemon's API is far too slow for that
// (stats are sampled about once a second), so we read and write the container's
// cgroup files directly, which needs root on the host and the host's pid namespace.
// Both hierarchies are supported: v1 (memory/cpuacct/pids/freezer controllers,
// still common on older hosts and on this CI machine) and the v2 unified tree.
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from "node:fs";
import { posix } from "node:path";

export interface ContainerCgroup {
  readonly version: 1 | 2;
  /** Where the files live, for error messages and logs. */
  readonly describe: string;
  /** Host pids of every process in the container. */
  pids(): number[];
  /** CPU time (user+sys) used by the container since it started, in ns. */
  cpuUsageNs(): number;
  /** Current memory charge (rss + page cache + tmpfs) in bytes. */
  memoryUsage(): number;
  /** Starts a new peak window at the current usage. */
  resetPeak(): void;
  /** Peak charge since the last resetPeak(); sampled when the kernel cannot reset its own peak. */
  peak(): number;
  /** To be called while a run is going on so the sampled peak (v2 without peak reset) sees it. */
  sample(): void;
  /** How many processes the kernel OOM-killed in the container so far. */
  oomKills(): number;
  setMemoryLimit(bytes: number): void;
  setPidsLimit(count: number): void;
  /** Freezes every task (best effort, resolves when frozen or after ~1 s). */
  freeze(): Promise<boolean>;
  thaw(): void;
  close(): void;
}

interface Mount {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function readMountInfo(): Mount[] {
  const mounts: Mount[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    // "36 35 98:0 /root /mnt rw,noatime master:1 - cgroup cgroup rw,memory"
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(" ");
    const right = line.slice(dash + 3).split(" ");
    const fsType = right[0] ?? "";
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    mounts.push({
      root: unescapeMount(left[3] ?? "/"),
      mountPoint: unescapeMount(left[4] ?? ""),
      fsType,
      superOptions: (right[2] ?? "").split(","),
    });
  }
  return mounts;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Maps a cgroup path (as in /proc/<pid>/cgroup) to a directory through a mount of that hierarchy. */
function resolveDir(mount: Mount, cgroupPath: string): string {
  const rel = posix.relative(mount.root, cgroupPath);
  if (rel.startsWith("..")) {
    throw new Error(`cgroup ${cgroupPath} is outside the mount ${mount.mountPoint} (root ${mount.root}); the judge must see the host's cgroup tree`);
  }
  return posix.join(mount.mountPoint, rel);
}

function readNumber(path: string): number {
  const text = readFileSync(path, "utf8").trim();
  return text === "max" ? Number.POSITIVE_INFINITY : Number(text);
}

function readKeyed(path: string, key: string): number {
  const text = readFileSync(path, "utf8");
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

function readPids(path: string): number[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map(Number);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Finds the cgroup of a container from the host pid of its init process. */
export function openContainerCgroup(pid: number): ContainerCgroup {
  let procCgroup: string;
  try {
    procCgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch (err) {
    throw new Error(`cannot read /proc/${pid}/cgroup (${(err as Error).message}); the docker engine must run in the host's pid namespace`);
  }
  const lines = procCgroup.split("\n").filter(Boolean).map((l) => {
    const first = l.indexOf(":");
    const second = l.indexOf(":", first + 1);
    return { controllers: l.slice(first + 1, second).split(","), path: l.slice(second + 1) };
  });
  const mounts = readMountInfo();
  const v1 = (controller: string) => {
    const line = lines.find((l) => l.controllers.includes(controller));
    const mount = mounts.find((m) => m.fsType === "cgroup" && m.superOptions.includes(controller));
    return line && mount ? resolveDir(mount, line.path) : null;
  };
  const memoryV1 = v1("memory");
  if (memoryV1) {
    const cpuacct = v1("cpuacct");
    const pidsDir = v1("pids");
    if (!cpuacct || !pidsDir) throw new Error("cgroup v1 host without cpuacct or pids controller: the docker engine cannot measure runs");
    return new CgroupV1(memoryV1, cpuacct, pidsDir, v1("freezer"));
  }
  const unified = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === "");
  const mount = mounts.find((m) => m.fsType === "cgroup2");
  if (!unified || !mount) throw new Error(`no usable cgroup for pid ${pid} (neither a v1 memory hierarchy nor cgroup2 is mounted)`);
  return new CgroupV2(resolveDir(mount, unified.path));
}

class CgroupV1 implements ContainerCgroup {
  readonly version = 1 as const;
  readonly describe: string;
  private readonly hasMemsw: boolean;

  constructor(
    private readonly memory: string,
    private readonly cpuacct: string,
    private readonly pidsDir: string,
    private readonly freezer: string | null,
  ) {
    this.describe = memory;
    // Fail now, with the path, rather than on the first run.
    readNumber(`${memory}/memory.usage_in_bytes`);
    readNumber(`${cpuacct}/cpuacct.usage`);
    let memsw = true;
    try {
      readNumber(`${memory}/memory.memsw.limit_in_bytes`);
    } catch {
      memsw = false; // swap accounting off: nothing to keep in step
    }
    this.hasMemsw = memsw;
  }

  pids(): number[] {
    return readPids(`${this.pidsDir}/cgroup.procs`);
  }
  cpuUsageNs(): number {
    return readNumber(`${this.cpuacct}/cpuacct.usage`);
  }
  memoryUsage(): number {
    return readNumber(`${this.memory}/memory.usage_in_bytes`);
  }
  resetPeak(): void {
    // Writing 0 resets the high-water mark to the current usage.
    writeFileSync(`${this.memory}/memory.max_usage_in_bytes`, "0");
    if (this.hasMemsw) writeFileSync(`${this.memory}/memory.memsw.max_usage_in_bytes`, "0");
  }
  peak(): number {
    return readNumber(`${this.memory}/memory.max_usage_in_bytes`);
  }
  sample(): void {}
  oomKills(): number {
    // "oom_kill N" exists since Linux 4.13.
    return readKeyed(`${this.memory}/memory.oom_control`, "oom_kill");
  }
  setMemoryLimit(bytes: number): void {
    const mem = `${this.memory}/memory.limit_in_bytes`;
    const memsw = `${this.memory}/memory.memsw.limit_in_bytes`;
    if (!this.hasMemsw) return writeFileSync(mem, String(bytes));
    // The kernel requires limit <= memsw.limit at every moment, so the order
    // depends on whether the limit goes up or down. Equal values = no swap.
    if (bytes >= readNumber(mem)) {
      writeFileSync(memsw, String(bytes));
      writeFileSync(mem, String(bytes));
    } else {
      writeFileSync(mem, String(bytes));
      writeFileSync(memsw, String(bytes));
    }
  }
  setPidsLimit(count: number): void {
    writeFileSync(`${this.pidsDir}/pids.max`, String(count));
  }
  async freeze(): Promise<boolean> {
    if (!this.freezer) return false;
    writeFileSync(`${this.freezer}/freezer.state`, "FROZEN");
    for (let i = 0; i < 200; i++) {
      if (readFileSync(`${this.freezer}/freezer.state`, "utf8").trim() === "FROZEN") return true;
      await sleep(i < 20 ? 0 : 5);
    }
    return false;
  }
  thaw(): void {
    if (this.freezer) writeFileSync(`${this.freezer}/freezer.state`, "THAWED");
  }
  close(): void {}
}

class CgroupV2 implements ContainerCgroup {
  readonly version = 2 as const;
  readonly describe: string;
  /** memory.peak resets per open file (Linux >= 6.12); null = sample memory.current instead. */
  private peakFd: number | null = null;
  private sampledPeak = 0;

  constructor(private readonly dir: string) {
    this.describe = dir;
    readNumber(`${dir}/memory.current`);
    try {
      const fd = openSync(`${dir}/memory.peak`, "r+");
      try {
        writeSync(fd, "reset");
        this.peakFd = fd;
      } catch {
        closeSync(fd);
      }
    } catch {
      this.peakFd = null;
    }
    // Docker sets memory.swap.max from MemorySwap; make sure no run can swap.
    try {
      writeFileSync(`${dir}/memory.swap.max`, "0");
    } catch {
      /* no swap controller: nothing to swap to */
    }
  }

  pids(): number[] {
    return readPids(`${this.dir}/cgroup.procs`);
  }
  cpuUsageNs(): number {
    return readKeyed(`${this.dir}/cpu.stat`, "usage_usec") * 1000;
  }
  memoryUsage(): number {
    return readNumber(`${this.dir}/memory.current`);
  }
  resetPeak(): void {
    if (this.peakFd !== null) writeSync(this.peakFd, "reset");
    this.sampledPeak = this.memoryUsage();
  }
  peak(): number {
    if (this.peakFd === null) return Math.max(this.sampledPeak, this.memoryUsage());
    const buf = Buffer.alloc(64);
    const n = readSync(this.peakFd, buf, 0, buf.length, 0);
    return Number(buf.subarray(0, n).toString("utf8").trim());
  }
  sample(): void {
    if (this.peakFd === null) this.sampledPeak = Math.max(this.sampledPeak, this.memoryUsage());
  }
  oomKills(): number {
    return readKeyed(`${this.dir}/memory.events`, "oom_kill");
  }
  setMemoryLimit(bytes: number): void {
    writeFileSync(`${this.dir}/memory.max`, String(bytes));
  }
  setPidsLimit(count: number): void {
    writeFileSync(`${this.dir}/pids.max`, String(count));
  }
  async freeze(): Promise<boolean> {
    writeFileSync(`${this.dir}/cgroup.freeze`, "1");
    for (let i = 0; i < 200; i++) {
      if (readKeyed(`${this.dir}/cgroup.events`, "frozen") === 1) return true;
      await sleep(i < 20 ? 0 : 5);
    }
    return false;
  }
  thaw(): void {
    writeFileSync(`${this.dir}/cgroup.freeze`, "0");
  }
  close(): void {
    if (this.peakFd !== null) closeSync(this.peakFd);
    this.peakFd = null;
  }
}
