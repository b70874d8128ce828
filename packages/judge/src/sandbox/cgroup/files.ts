// Reading and writing cgroup control files, and finding the hierarchies (v1 controller
// mounts, the v2 unified mount) in /proc/self/mountinfo. Shared by the run groups of
// the bwrap engine and the container groups of the Docker engine.
import { readFileSync, writeFileSync } from "node:fs";
import { posix } from "node:path";

/** A number file; "max" is +Infinity. Throws when the file is missing. */
export function readNumber(file: string): number {
  const text = readFileSync(file, "utf8").trim();
  return text === "max" ? Number.POSITIVE_INFINITY : Number(text);
}

/** A "key value" per line file (memory.events, cpu.stat, memory.oom_control); empty when missing. */
export function readKeyed(file: string): Map<string, number> {
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

/** cgroup.procs: empty when the group is gone. */
export function readPids(file: string): number[] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export function write(file: string, value: string | number): void {
  writeFileSync(file, String(value));
}

/** Best effort: a control file the kernel lacks or refuses is not an error here. */
export function tryWrite(file: string, value: string | number): boolean {
  try {
    writeFileSync(file, String(value));
    return true;
  } catch {
    return false;
  }
}

export interface CgroupMount {
  /** The path of the mount's root inside the hierarchy (not "/" inside a cgroup namespace or a bind). */
  root: string;
  mountPoint: string;
  type: "cgroup" | "cgroup2";
  /** Super options: the v1 controllers ("memory", "cpu,cpuacct", ...). */
  options: string[];
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function cgroupMounts(): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    // "36 35 98:0 /root /mnt rw,noatime master:1 - cgroup cgroup rw,memory"
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(" ");
    const right = line.slice(dash + 3).split(" ");
    const type = right[0];
    if (type !== "cgroup" && type !== "cgroup2") continue;
    mounts.push({ root: unescapeMount(left[3] ?? "/"), mountPoint: unescapeMount(left[4] ?? ""), type, options: (right[2] ?? "").split(",") });
  }
  return mounts;
}

/** The v1 mount that carries a controller. */
export function v1Mount(mounts: CgroupMount[], controller: string): CgroupMount | undefined {
  return mounts.find((m) => m.type === "cgroup" && m.options.includes(controller));
}

/** Maps a cgroup path (as in /proc/<pid>/cgroup) to a directory through a mount of its hierarchy. */
export function dirFor(mount: CgroupMount, cgroupPath: string): string {
  const rel = posix.relative(mount.root, cgroupPath);
  if (rel.startsWith("..")) {
    throw new Error(`cgroup ${cgroupPath} is outside the mount ${mount.mountPoint} (root ${mount.root}); the judge must see the host's cgroup tree`);
  }
  return posix.join(mount.mountPoint, rel);
}
