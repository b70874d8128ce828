// The machine a benchmark ran on: figures from a shared 2-core box mean little without it.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";

export interface Machine {
  cpuModel: string;
  cpus: number;
  /** What Node may use (affinity / cgroup cpuset): the "usable cores" of the burst goal. */
  usableCores: number;
  memoryGiB: number;
  kernel: string;
  cgroup: "v1" | "v2" | "hybrid";
  node: string;
  commit: string;
  loadStart: [number, number, number];
  loadEnd?: [number, number, number];
}

export function cgroupVersion(): Machine["cgroup"] {
  if (existsSync("/sys/fs/cgroup/cgroup.controllers")) return "v2";
  return existsSync("/sys/fs/cgroup/unified/cgroup.controllers") ? "hybrid" : "v1";
}

function gitCommit(repoRoot: string): string {
  const head = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: repoRoot, encoding: "utf8" });
  if (head.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: repoRoot, encoding: "utf8" });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? " (+ uncommitted changes)" : ""}`;
}

export function load(): [number, number, number] {
  const [one, five, fifteen] = loadavg();
  return [one ?? 0, five ?? 0, fifteen ?? 0];
}

export function describeMachine(repoRoot: string): Machine {
  const model = cpus()[0]?.model ?? (/^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown");
  return {
    cpuModel: model.trim(),
    cpus: cpus().length,
    usableCores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    cgroup: cgroupVersion(),
    node: process.version,
    commit: gitCommit(repoRoot),
    loadStart: load(),
  };
}

export function machineLine(machine: Machine): string {
  const fmt = (l: [number, number, number]) => l.map((v) => v.toFixed(2)).join(" ");
  return [
    `${machine.cpuModel}, ${machine.cpus} CPUs (${machine.usableCores} usable), ${machine.memoryGiB} GiB`,
    `kernel ${machine.kernel}, cgroup ${machine.cgroup === "hybrid" ? "v1 (hybrid: v1 controllers, a v2 mount beside them)" : machine.cgroup}, node ${machine.node}, commit ${machine.commit}`,
    `load average at start ${fmt(machine.loadStart)}${machine.loadEnd ? `, at end ${fmt(machine.loadEnd)}` : ""}`,
  ].join("\n");
}
