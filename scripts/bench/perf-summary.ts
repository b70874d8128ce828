// Summarises `perf script -F tid,time,ip,sym` of the burst's evaluator (scripts/bench/perf-burst.sh):
// on-CPU ms per submission by thread, then for the busiest thread (the event loop) the share of
// samples whose stack holds each category (a sample counts in every category it matches), and
// the JS functions nearest the leaf. The window starts at the first sample matching --from
// (default: the first session opened), so the evaluator's start-up is left out.
//
//   npx tsx scripts/bench/perf-summary.ts /tmp/perf/script.txt [--submissions 100] [--hz 1999] [--from openSession] [--top 25]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { submissions: { type: "string", default: "100" }, hz: { type: "string", default: "1999" }, from: { type: "string", default: "openSession" }, top: { type: "string", default: "25" } },
});
const file = positionals[0];
if (!file) throw new Error("usage: perf-summary.ts <perf script output> [--submissions N]");
const submissions = Number(values.submissions);
const msPerSample = 1000 / Number(values.hz);
const perSubmission = (samples: number) => ((samples * msPerSample) / submissions).toFixed(2);

/** Where the evaluator's event loop spends CPU, by what the stack holds. */
const CATEGORIES: Array<[string, RegExp]> = [
  ["cgroupfs (sandbox/cgroup/*)", /sandbox\/cgroup\//],
  ["  of which mkdir", /mkdir/],
  ["  of which rmdir", /rmdir/],
  ["supervisor fork (dup_mm)", /dup_mm/],
  ["child_process.spawn (JS)", /JS:.*spawn node:child_process/],
  ["page faults", /exc_page_fault/],
  ["bwrap session (supervised-session.ts)", /supervised-session\.ts/],
  ["supervisor protocol (supervisor.ts)", /bwrap\/supervisor\.ts/],
  ["BullMQ / ioredis", /bullmq|ioredis/],
  ["zod", /zod/],
  ["checker pool (postMessage, results)", /check-pool|postMessage/],
  ["evaluator-service", /evaluator-service/],
  ["judge core (judge, judge-session, compile)", /judge-session|judge\/src\/judge\.ts|judge\/src\/compile\.ts/],
  ["garbage collection", /Scavenge|MarkCompact|CollectGarbage/],
  ["no JS frame (event loop, kernel)", /^(?!JS:)/],
];

interface Sample {
  tid: string;
  frames: string[];
}

const samples: Sample[] = [];
let current: Sample | null = null;
for (const line of readFileSync(file, "utf8").split("\n")) {
  if (line.startsWith("\t")) {
    const sym = line.trim().split(/\s+/).slice(1).join(" ");
    current?.frames.push(sym || "?");
  } else if (line.trim() !== "") {
    current = { tid: line.trim().split(/\s+/)[0]!, frames: [] };
    samples.push(current);
  }
}
const from = new RegExp(values.from!);
const start = samples.findIndex((s) => s.frames.some((f) => from.test(f)));
if (start < 0) throw new Error(`no sample matches --from ${values.from}`);
const window = samples.slice(start);

const byThread = new Map<string, number>();
for (const s of window) byThread.set(s.tid, (byThread.get(s.tid) ?? 0) + 1);
const threads = [...byThread.entries()].sort((a, b) => b[1] - a[1]);
const total = window.length;
const lines = [`${total} samples from the first matching ${values.from}: ${perSubmission(total)} ms per submission (${submissions}) in all, the children perf followed (compilers, runs) included`, "by thread (the first is the event loop; tids of other processes are their children):"];
for (const [tid, n] of threads.slice(0, 12)) lines.push(`  ${tid.padStart(8)} ${perSubmission(n).padStart(7)} ms`);

const [mainTid, mainCount] = threads[0]!;
const main = window.filter((s) => s.tid === mainTid);
lines.push(`event loop thread ${mainTid}: ${perSubmission(mainCount)} ms per submission; stacks holding:`);
for (const [name, pattern] of CATEGORIES) {
  const n = name.startsWith("no JS") ? main.filter((s) => !s.frames.some((f) => f.startsWith("JS:"))).length : main.filter((s) => s.frames.some((f) => pattern.test(f))).length;
  lines.push(`  ${((100 * n) / mainCount).toFixed(1).padStart(5)}%  ${perSubmission(n).padStart(6)} ms  ${name}`);
}
const nearest = new Map<string, number>();
for (const s of main) {
  const js = s.frames.find((f) => f.startsWith("JS:"));
  const key = js ? js.replace(/file:\/\/\/\S*?\/(packages|services|apps|node_modules)\//, "$1/") : "(no JS frame)";
  nearest.set(key, (nearest.get(key) ?? 0) + 1);
}
lines.push("JS function nearest the leaf:");
for (const [name, n] of [...nearest.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) lines.push(`  ${((100 * n) / mainCount).toFixed(1).padStart(5)}%  ${name.slice(0, 140)}`);
process.stdout.write(`${lines.join("\n")}\n`);
