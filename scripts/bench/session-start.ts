// Cost of one bwrap session to the judge process: open (Supervisor.start: spawn -> "ready"),
// optionally one trivial run, dispose; at a given RSS of the judge (fork copies its page tables).
// Own CPU is this process's (every thread), children's is what the reaped supervisors and runs
// spent. A script, not a test.
//
//   npx tsx scripts/bench/session-start.ts [--ballast-mb 150] [--sessions 40] [--runs 1]
import { readFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { parseArgs } from "node:util";
import { createBwrapEngine } from "../../packages/judge/src/index.js";

const { values } = parseArgs({ options: { "ballast-mb": { type: "string", default: "150" }, sessions: { type: "string", default: "40" }, runs: { type: "string", default: "1" } } });
const ballastMb = Number(values["ballast-mb"]);
const sessions = Number(values.sessions);
const runs = Number(values.runs);

// Touched pages, as a judge's heap is: fork copies the page tables of every one.
const ballast: Buffer[] = [];
for (let i = 0; i < ballastMb; i++) ballast.push(Buffer.alloc(1 << 20, i));

// Times child_process.spawn itself (the supervisor's fork + exec, as the event loop sees it).
const childProcess = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
const original = childProcess.spawn;
const spawnTimes = { wallUs: 0, cpuUs: 0, count: 0 };
(childProcess as { spawn: unknown }).spawn = function (this: unknown, ...args: unknown[]) {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  const child = (original as (...a: unknown[]) => unknown).apply(this, args);
  const d = process.cpuUsage(c);
  spawnTimes.cpuUs += d.user + d.system;
  spawnTimes.wallUs += Number(process.hrtime.bigint() - t) / 1000;
  spawnTimes.count++;
  return child;
};
syncBuiltinESMExports();

/** utime+stime and cutime+cstime of this process, ms (USER_HZ 100). */
function times(): { own: number; children: number } {
  const text = readFileSync("/proc/self/stat", "utf8");
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ").map(Number);
  return { own: (f[11]! + f[12]!) * 10, children: (f[13]! + f[14]!) * 10 };
}

const LIMITS = { cpuTimeMs: 1000, wallTimeMs: 3000, memoryBytes: 64 << 20, outputBytes: 1 << 20, processes: 8, fileSizeBytes: 1 << 20 };
const engine = createBwrapEngine({});
await engine.check();
Object.assign(spawnTimes, { wallUs: 0, cpuUs: 0, count: 0 });
const before = times();
let openMs = 0;
let disposeMs = 0;
for (let i = 0; i < sessions; i++) {
  const a = performance.now();
  const session = await engine.open();
  const b = performance.now();
  for (let r = 0; r < runs; r++) await session.run({ argv: ["/bin/true"], stdin: "", limits: LIMITS });
  const c = performance.now();
  await session.dispose();
  openMs += b - a;
  disposeMs += performance.now() - c;
}
const after = times();
const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
const per = (ms: number) => (ms / sessions).toFixed(2);
process.stdout.write(
  `RSS ${rssMb} MB, ${sessions} sessions x ${runs} run(s): open ${per(openMs)} ms, dispose ${per(disposeMs)} ms (wall); ` +
    `per session own CPU ${per(after.own - before.own)} ms, children ${per(after.children - before.children)} ms; ` +
    `spawn() ${(spawnTimes.wallUs / 1000 / Math.max(1, spawnTimes.count)).toFixed(2)} ms wall, ${(spawnTimes.cpuUs / 1000 / Math.max(1, spawnTimes.count)).toFixed(2)} ms CPU (${spawnTimes.count} spawns)\n`,
);
await engine.close();
void ballast.length;
