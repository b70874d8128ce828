// lowerOwnPriority in real processes: every thread lowered, the autogroup only of a session
// leader (never the session of whoever started the evaluator), and never a raise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { lowerOwnPriority, type PriorityOutcome } from "../src/process-priority.js";

const MODULE = new URL("../src/process-priority.ts", import.meta.url).pathname;

interface Report {
  outcome: PriorityOutcome;
  /** The nice value of each thread, after the call. */
  threads: number[];
  autogroup: string | null;
}

/** Runs lowerOwnPriority(nice) in a fresh Node process (optionally its own session, optionally under `nice -n`). */
function inChild(nice: number, options: { detached: boolean; startNice?: number }): Promise<Report> {
  const script = `
    import { readdirSync, readFileSync } from "node:fs";
    const { lowerOwnPriority } = await import(${JSON.stringify(MODULE)});
    const outcome = lowerOwnPriority(${nice});
    const niceOf = (text) => Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[16]);
    const threads = readdirSync("/proc/self/task").map((tid) => niceOf(readFileSync("/proc/self/task/" + tid + "/stat", "utf8")));
    let autogroup = null;
    try { autogroup = readFileSync("/proc/self/autogroup", "utf8").trim(); } catch {}
    process.stdout.write(JSON.stringify({ outcome, threads, autogroup }));
  `;
  const node = [process.execPath, "--import", "tsx", "--input-type=module", "-e", script];
  const argv = options.startNice === undefined ? node : ["nice", "-n", String(options.startNice), ...node];
  const child = spawn(argv[0]!, argv.slice(1), { detached: options.detached, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as Report) : reject(new Error(`child exited ${code}: ${out}`))));
  });
}

const ownAutogroup = (): string | null => {
  try {
    return readFileSync("/proc/self/autogroup", "utf8").trim();
  } catch {
    return null;
  }
};

test("a session leader: every thread and its autogroup at the nice value", async () => {
  const report = await inChild(7, { detached: true });
  assert.ok(report.threads.length > 1, "a Node process has several threads");
  assert.deepEqual(new Set(report.threads), new Set([7]));
  assert.equal(report.outcome.threads, report.threads.length);
  if (report.autogroup === null) assert.equal(report.outcome.autogroup, "absent");
  else {
    assert.equal(report.outcome.autogroup, "set");
    assert.match(report.autogroup, /nice 7$/);
  }
});

test("not a session leader: its threads only; the session it shares (this test's) keeps its autogroup", async () => {
  const before = ownAutogroup();
  const report = await inChild(7, { detached: false });
  assert.deepEqual(new Set(report.threads), new Set([7]));
  assert.equal(report.outcome.autogroup, before === null ? "absent" : "not-leader");
  assert.equal(ownAutogroup(), before);
  assert.equal(report.autogroup, before, "the child is in this test's autogroup, unchanged");
});

test("never raises a priority: a process started at nice 12 stays at 12", async () => {
  const report = await inChild(7, { detached: true, startNice: 12 });
  assert.deepEqual(new Set(report.threads), new Set([12]));
});

test("0 changes nothing; values outside 0-19 are refused", () => {
  assert.deepEqual(lowerOwnPriority(0), { nice: 0, threads: 0, autogroup: "absent" });
  assert.throws(() => lowerOwnPriority(20), RangeError);
  assert.throws(() => lowerOwnPriority(-1), RangeError);
  assert.throws(() => lowerOwnPriority(2.5), RangeError);
});
