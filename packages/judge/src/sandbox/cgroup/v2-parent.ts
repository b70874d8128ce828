// Prepares the cgroup v2 group that holds the bwrap engine's run groups, within the
// rules of the unified hierarchy:
//  - controllers reach a group only through its parent's cgroup.subtree_control, so
//    they are enabled level by level, one controller per write (a write naming a
//    controller the level lacks fails whole), and only those the level offers;
//  - "no internal processes": a non-root group that enables controllers for its
//    children must hold no process itself. Where the judge sits in such a group (a
//    delegated systemd unit, a container's namespace root), its processes move first
//    into a leaf of their own (JUDGE_LEAF);
//  - delegated: an unprivileged judge (systemd Delegate=yes, or any subtree chowned to
//    it) may only write below its own group, so the runs go there, not at the top.
// Nothing the kernel lacks is assumed: a missing memory or pids controller is a
// readable error naming the group, never a failure on the first run.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, posix } from "node:path";

/**
 * Run groups need memory (limit, peak, OOM events) and pids (fork bombs); cpu is
 * enabled when offered (cpu.stat's usage_usec exists without it), and cpuset to pin
 * each slot's runs to a CPU (run-cgroups.ts reports when it is missing).
 */
const REQUIRED = ["memory", "pids"] as const;
const WANTED = ["memory", "pids", "cpu", "cpuset"] as const;
/** Where the judge's own processes go when they sit in a group that must enable controllers. */
export const JUDGE_LEAF = "sonocode-judge";

export interface V2ParentOptions {
  /** Where the cgroup2 hierarchy is mounted. */
  mountPoint: string;
  /** The mount's root inside the hierarchy (not "/" inside a cgroup namespace or a bind mount). */
  mountRoot: string;
  /** The runs' parent, relative to the mount point, or to the judge's own group when delegated. */
  parent: string;
  /** Put the parent inside the judge's own (delegated) group rather than at the top of the hierarchy. */
  delegated: boolean;
  /** This process's cgroup path; read from /proc/self/cgroup when absent. */
  ownPath?: string | null;
}

/** The v2 path of this process ("0::/a/b" in /proc/self/cgroup), or null on a v1-only host. */
export function ownCgroupPath(text?: string): string | null {
  let content = text;
  if (content === undefined) {
    try {
      content = readFileSync("/proc/self/cgroup", "utf8");
    } catch {
      return null;
    }
  }
  const line = content.split("\n").find((l) => l.startsWith("0::"));
  return line ? line.slice(3) : null;
}

function words(file: string): string[] {
  try {
    return readFileSync(file, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? "";
}

/** Moves every process of `dir` into dir/JUDGE_LEAF (retrying: a process may fork while we move). */
function evacuate(dir: string): void {
  const leaf = join(dir, JUDGE_LEAF);
  if (!existsSync(leaf)) mkdirSync(leaf);
  for (let round = 0; round < 20; round++) {
    const pids = words(join(dir, "cgroup.procs"));
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        writeFileSync(join(leaf, "cgroup.procs"), pid);
      } catch (error) {
        if (errno(error) !== "ESRCH") throw new Error(`cgroup v2: cannot move process ${pid} from ${dir} into its leaf ${leaf}: ${errno(error) || String(error)}`);
      }
    }
  }
  throw new Error(`cgroup v2: processes keep appearing in ${dir}; cannot empty it for its subtree_control`);
}

/** Enables what `dir` offers of WANTED for its children; returns whether a write failed because the group holds processes. */
function enable(dir: string): { busy: boolean; errors: string[] } {
  const offered = words(join(dir, "cgroup.controllers"));
  const enabled = new Set(words(join(dir, "cgroup.subtree_control")));
  const errors: string[] = [];
  let busy = false;
  for (const controller of WANTED) {
    if (!offered.includes(controller) || enabled.has(controller)) continue;
    try {
      writeFileSync(join(dir, "cgroup.subtree_control"), `+${controller}`);
    } catch (error) {
      if (errno(error) === "EBUSY") busy = true;
      errors.push(`+${controller}: ${errno(error) || String(error)}`);
    }
  }
  return { busy, errors };
}

/** Creates (if needed) and prepares the runs' parent group; returns its directory. Throws readable errors. */
export function prepareV2Parent(options: V2ParentOptions): string {
  const { mountPoint, mountRoot, parent, delegated } = options;
  const own = options.ownPath === undefined ? ownCgroupPath() : options.ownPath;
  const rel = own === null ? null : posix.relative(mountRoot, own);
  const ownDir = rel === null || rel.startsWith("..") ? null : join(mountPoint, rel);

  let base = mountPoint;
  if (delegated) {
    if (ownDir === null) throw new Error(`cgroup v2: this process's cgroup (${own ?? "none"}) is not under ${mountPoint}`);
    // A judge process started after an earlier one moved the group's processes into the leaf.
    base = basename(ownDir) === JUDGE_LEAF ? dirname(ownDir) : ownDir;
    if (base === mountPoint) throw new Error("cgroup v2: an unprivileged judge needs a delegated cgroup (systemd: Delegate=yes); this process is in the root group");
    try {
      accessSync(join(base, "cgroup.subtree_control"), constants.W_OK);
      accessSync(join(base, "cgroup.procs"), constants.W_OK);
    } catch {
      throw new Error(`cgroup v2: ${base} is not delegated to uid ${process.geteuid?.() ?? "?"} (its cgroup.procs and cgroup.subtree_control must be writable; systemd: Delegate=yes)`);
    }
  }

  const levels = [base];
  for (const segment of parent.split("/").filter(Boolean)) levels.push(join(levels[levels.length - 1]!, segment));
  for (const [index, dir] of levels.entries()) {
    if (index > 0 && !existsSync(dir)) mkdirSync(dir);
    // The top of the hierarchy is exempt from "no internal processes" except as a
    // cgroup namespace's root (a container): there, EBUSY below is the signal to move.
    if (dir === ownDir && dir !== mountPoint) evacuate(dir);
    let result = enable(dir);
    if (result.busy && dir === mountPoint) {
      evacuate(dir);
      result = enable(dir);
    }
    const missing = REQUIRED.filter((c) => !words(join(dir, "cgroup.subtree_control")).includes(c));
    if (missing.length > 0) {
      const offered = words(join(dir, "cgroup.controllers")).join(" ") || "none";
      const why = result.errors.length > 0 ? `: ${result.errors.join(", ")}` : "";
      throw new Error(`cgroup v2: cannot enable ${missing.join(" and ")} for the children of ${dir} (it offers: ${offered})${why}`);
    }
  }
  return levels[levels.length - 1]!;
}
