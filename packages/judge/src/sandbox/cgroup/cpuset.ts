// Which CPUs the judge may use, and which one a session slot runs on. Each slot is
// pinned to a CPU of its own (the run groups' cpuset on bwrap, the container's
// CpusetCpus on Docker) so that parallel sessions do not share a core and measured
// CPU and wall times stay what they would be alone. More slots than CPUs share them
// round-robin (slot k on CPU k mod n): timings then distort as they would unpinned.
import { availableParallelism } from "node:os";
import { readFileSync } from "node:fs";

/** "0-3,6,8-9" (the kernel's list format) -> [0,1,2,3,6,8,9]; empty text -> []. Throws on anything else. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === "") return [];
  for (const part of trimmed.split(",")) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from || to - from > 65_536) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [0,1,2,5] -> "0-2,5". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function readList(file: string): number[] | null {
  try {
    return parseCpuList(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/**
 * The CPUs this process may run on: its affinity mask (sched_getaffinity, which the
 * kernel already narrows to the process's cpuset: a container's --cpuset-cpus, a
 * systemd AllowedCPUs=) as /proc/self/status shows it, minus offline CPUs. Falls
 * back to 0..availableParallelism()-1 where /proc says nothing usable.
 */
export function usableCpus(): number[] {
  let allowed: number[] | null = null;
  try {
    const line = readFileSync("/proc/self/status", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Cpus_allowed_list:"));
    if (line) allowed = parseCpuList(line.slice(line.indexOf(":") + 1));
  } catch {
    allowed = null;
  }
  const online = readList("/sys/devices/system/cpu/online");
  const usable = allowed && online ? allowed.filter((cpu) => online.includes(cpu)) : allowed;
  if (usable && usable.length > 0) return usable;
  return Array.from({ length: Math.max(1, availableParallelism()) }, (_, cpu) => cpu);
}

/** The CPU a session slot is pinned to: its own while slots <= CPUs, round-robin beyond. */
export function slotCpus(slot: number, usable: readonly number[]): number[] {
  if (usable.length === 0) throw new Error("no usable CPU");
  if (!Number.isInteger(slot) || slot < 0) throw new Error(`invalid slot ${slot}`);
  return [usable[slot % usable.length]!];
}
