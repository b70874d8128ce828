// Summarises V8 CPU profiles (from `bench:pipeline --cpu-prof DIR`): self time by package or
// source file and the top functions, optionally only from --from-ms into the profile (past
// start-up, whose module loading and compiling would otherwise dominate).
//
//   npx tsx scripts/bench/cpu-profile.summary.ts /tmp/prof/*.cpuprofile [--from-ms 20000] [--top 25]
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package> (scoped too), this repo's workspace folder and file, or what V8 calls it. */
export function origin(url: string): string {
  if (url === "") return "(native / V8)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const repo = /\/(packages|services|apps|scripts)\/([^/]+)\/(?:src\/)?(.+)$/.exec(url);
  if (repo) return `${repo[1]}/${repo[2]}/${repo[3]}`;
  if (url.startsWith("node:")) return url;
  return basename(url);
}

export function summarise(profile: Profile, fromMs: number): { totalMs: number; byOrigin: Map<string, number>; byFunction: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let at = profile.startTime;
  let totalMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if ((at - profile.startTime) / 1000 < fromMs) continue;
    const node = nodes.get(profile.samples[i]!);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)" || functionName === "(program)" || functionName === "(garbage collector)") {
      if (functionName !== "(idle)") byOrigin.set(functionName, (byOrigin.get(functionName) ?? 0) + delta / 1000);
      if (functionName !== "(idle)") totalMs += delta / 1000;
      continue;
    }
    const ms = delta / 1000;
    totalMs += ms;
    const where = origin(url);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + ms);
    const name = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  return { totalMs, byOrigin, byFunction };
}

function top(map: Map<string, number>, n: number, totalMs: number): string {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => `  ${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / totalMs).toFixed(1).padStart(5)}%  ${name}`)
    .join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { "from-ms": { type: "string", default: "0" }, top: { type: "string", default: "25" } } });
  const fromMs = Number(values["from-ms"]);
  const n = Number(values.top);
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
    const { totalMs, byOrigin, byFunction } = summarise(profile, fromMs);
    const spanMs = (profile.endTime - profile.startTime) / 1000 - fromMs;
    process.stdout.write(`${basename(file)}: ${totalMs.toFixed(0)} ms on CPU of ${spanMs.toFixed(0)} ms profiled (from ${fromMs} ms)\n`);
    process.stdout.write(`by origin:\n${top(byOrigin, n, totalMs)}\nby function:\n${top(byFunction, n, totalMs)}\n\n`);
  }
}
