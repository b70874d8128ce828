// Finds the cgroup hierarchy the bwrap engine's run groups go in (run-cgroups.ts): cgroup v2
// when its memory and pids controllers are usable, else the v1 memory/pids/cpuacct
// (/freezer/cpuset) hierarchies; prepares the parent group and tells whether runs can be
// pinned to CPUs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Dirs } from "./cgroup.js";
import { formatCpuList, parseCpuList, usableCpus } from "./cpuset.js";
import { cgroupMounts, v1Mount, type CgroupMount } from "./files.js";
import { Manager, type CgroupManager, type CpusetSupport } from "./run-cgroups.js";
import { prepareV2Parent } from "./v2-parent.js";
import { V1Spares } from "./v1-spares.js";
export interface CgroupDetectOptions {
  /** Parent group path relative to each hierarchy's mount point. Default "sonocode". */
  parent?: string;
  /** Force a version instead of detecting. */
  version?: 1 | 2;
  /** v2: put the parent inside this process's own (delegated) cgroup, not at the top. Default: when not root. */
  delegated?: boolean;
}

function ensureDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
}

/** The CPUs runs may be pinned to: this process's own, within what the runs' parent group offers. */
function pinnable(parentEffective: string): CpusetSupport {
  let offered: number[];
  try {
    offered = parseCpuList(readFileSync(parentEffective, "utf8"));
  } catch (error) {
    return { cpus: null, reason: `cannot read ${parentEffective}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` };
  }
  const cpus = usableCpus().filter((cpu) => offered.includes(cpu));
  if (cpus.length === 0) return { cpus: null, reason: `none of this process's CPUs is in ${parentEffective} (${formatCpuList(offered) || "empty"})` };
  return { cpus };
}

function v2Cpuset(parentDir: string): CpusetSupport {
  let enabled: string[] = [];
  try {
    enabled = readFileSync(join(parentDir, "cgroup.subtree_control"), "utf8").trim().split(/\s+/);
  } catch {
    /* reported below */
  }
  if (!enabled.includes("cpuset")) return { cpus: null, reason: `the cpuset controller is not enabled for the children of ${parentDir}` };
  return pinnable(join(parentDir, "cpuset.cpus.effective"));
}

/**
 * v1: a new cpuset group starts with empty cpus and mems (unless cgroup.clone_children),
 * and no task can join it; each level of the parent path gets its parent's values.
 */
function v1Cpuset(mountPoint: string, parent: string): { dir: string | null; support: CpusetSupport } {
  let dir = mountPoint;
  try {
    for (const segment of parent.split("/").filter(Boolean)) {
      const child = join(dir, segment);
      ensureDir(child);
      for (const file of ["cpuset.cpus", "cpuset.mems"]) {
        if (readFileSync(join(child, file), "utf8").trim() === "") writeFileSync(join(child, file), readFileSync(join(dir, file), "utf8").trim());
      }
      dir = child;
    }
  } catch (error) {
    return { dir: null, support: { cpus: null, reason: `cannot prepare the cpuset group ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` } };
  }
  const support = pinnable(join(dir, "cpuset.effective_cpus"));
  return { dir: support.cpus ? dir : null, support };
}

function tryV2(mounts: CgroupMount[], parent: string, delegated: boolean): CgroupManager | null {
  const mount = mounts.find((m) => m.type === "cgroup2");
  if (!mount) return null;
  let controllers: string[];
  try {
    controllers = readFileSync(join(mount.mountPoint, "cgroup.controllers"), "utf8").trim().split(/\s+/);
  } catch {
    return null;
  }
  // A hybrid host (v1 controllers + an empty unified tree) has no memory here.
  if (!controllers.includes("memory") || !controllers.includes("pids")) return null;
  // Controllers down the path, "no internal processes", delegation: see v2-parent.ts.
  const dir = prepareV2Parent({ mountPoint: mount.mountPoint, mountRoot: mount.root, parent, delegated });
  return new Manager(2, { v2: dir }, v2Cpuset(dir));
}

function tryV1(mounts: CgroupMount[], parent: string): CgroupManager | null {
  const find = (controller: string) => v1Mount(mounts, controller)?.mountPoint;
  const memory = find("memory");
  const pids = find("pids");
  const cpuacct = find("cpuacct");
  const freezer = find("freezer");
  if (!memory || !pids || !cpuacct) return null;
  const cpusetMount = find("cpuset");
  const cpuset = cpusetMount ? v1Cpuset(cpusetMount, parent) : { dir: null, support: { cpus: null, reason: "no cgroup v1 cpuset hierarchy is mounted" } satisfies CpusetSupport };
  const parents: V1Dirs = { memory: join(memory, parent), pids: join(pids, parent), cpuacct: join(cpuacct, parent), freezer: freezer ? join(freezer, parent) : null, cpuset: cpuset.dir };
  for (const dir of Object.values(parents)) if (dir) ensureDir(dir);
  // Hierarchical accounting so a run's usage also counts in the parent.
  try {
    writeFileSync(join(parents.memory, "memory.use_hierarchy"), "1");
  } catch {
    /* already inherited from the root, or not changeable once children exist */
  }
  // Co-mounted (-o memory,cpuset), a shared pin group would move a run's tasks out of their own
  // group of that controller (a task is in one group per hierarchy): then each run has its own cpuset group, as before.
  const shares = (controller: string, others: string[]) => others.some((other) => (v1Mount(mounts, controller)?.options ?? []).includes(other));
  const cpusetAlone = !shares("cpuset", ["memory", "pids", "cpuacct", "freezer"]);
  // Kept pids/cpuacct/freezer groups (v1-spares.ts) are other groups than the run's own memory and
  // cpuset ones: only where neither of those hierarchies carries one of them (the same reason).
  const keepable = !shares("memory", ["pids", "cpuacct", "freezer"]) && (!cpuset.dir || cpusetAlone);
  return new Manager(1, { v1: parents }, cpuset.support, cpusetAlone, keepable ? new V1Spares() : null);
}

/** Detects the usable cgroup hierarchy; throws a readable error when none is usable. */
export async function createCgroupManager(options: CgroupDetectOptions = {}): Promise<CgroupManager> {
  const parent = options.parent ?? "sonocode";
  if (parent.split("/").includes("..")) throw new Error("cgroup parent must not contain '..'");
  const mounts = cgroupMounts();
  const v2 = options.version === 1 ? null : tryV2(mounts, parent, options.delegated ?? process.geteuid?.() !== 0);
  if (v2) return v2;
  const v1 = options.version === 2 ? null : tryV1(mounts, parent);
  if (v1) return v1;
  throw new Error("no usable cgroup hierarchy: need cgroup v2 with memory+pids, or v1 memory, pids and cpuacct mounted and writable");
}
