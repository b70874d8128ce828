// compileInSession(): a compiler stalled by the host gets one more try, nothing else does.
// The session here is scripted: a cold page cache cannot be produced on demand in a test
// (dropping caches needs the whole machine to itself), so the rule is checked against the
// outcomes an engine reports in that case. Real compiles run in the language suites.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileInSession } from "../src/compile.js";
import { COMPILE_LIMITS } from "../src/languages.js";
import type { RunOutcome, RunSpec, SandboxSession } from "../src/sandbox/sandbox.js";

function outcome(facts: Partial<RunOutcome>): RunOutcome {
  return {
    exitCode: 0,
    signal: null,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    stdoutBytes: 0,
    stderrBytes: 0,
    cpuTimeMs: 400,
    wallTimeMs: 500,
    memoryKb: 1000,
    cgroupPeakKb: 1200,
    oomKilled: false,
    memoryLimitHit: false,
    watchdog: null,
    ...facts,
  };
}

const STALLED = outcome({ exitCode: null, signal: "SIGKILL", cpuTimeMs: 500, wallTimeMs: COMPILE_LIMITS.wallTimeMs + 5, watchdog: "wall" });
// Working when the wall bound came: a CPU-hungry compile starved on a loaded host (10% share).
const STARVED = outcome({ exitCode: null, signal: "SIGKILL", cpuTimeMs: COMPILE_LIMITS.wallTimeMs / 10, wallTimeMs: COMPILE_LIMITS.wallTimeMs + 5, watchdog: "wall" });
const CPU_BOUND = outcome({ exitCode: null, signal: "SIGKILL", cpuTimeMs: COMPILE_LIMITS.cpuTimeMs + 5, wallTimeMs: COMPILE_LIMITS.cpuTimeMs + 50, watchdog: "cpu" });

function scripted(outcomes: RunOutcome[]): { session: SandboxSession; specs: RunSpec[] } {
  const specs: RunSpec[] = [];
  const session: SandboxSession = {
    writeFile: () => Promise.resolve(),
    run: (spec) => {
      specs.push(spec);
      const next = outcomes.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error("more runs than scripted"));
    },
    dispose: () => Promise.resolve(),
  };
  return { session, specs };
}

describe("compileInSession", () => {
  it("a compile blocked until its wall bound (cold page cache) runs once more and its second result counts", async () => {
    const { session, specs } = scripted([STALLED, outcome({})]);
    const run = await compileInSession(session, ["/usr/bin/rustc", "main.rs"], undefined);
    assert.equal(run.attempts, 2);
    assert.equal(run.hit, null);
    assert.equal(specs.length, 2);
    for (const spec of specs) {
      assert.deepEqual(spec.argv, ["/usr/bin/rustc", "main.rs"]);
      assert.equal(spec.limits, COMPILE_LIMITS);
      assert.equal(spec.writableWorkDir, true);
    }
  });
  it("a second stall is the compile's result: two bounded runs, never a loop", async () => {
    const { session } = scripted([STALLED, STALLED, outcome({})]);
    const run = await compileInSession(session, ["/usr/bin/g++"], undefined);
    assert.equal(run.attempts, 2);
    assert.equal(run.hit, "wall");
  });
  it("a compile over its CPU limit, one still working at its wall bound, a failed compile and a clean one run once", async () => {
    for (const first of [CPU_BOUND, STARVED, outcome({ exitCode: 1 }), outcome({})]) {
      const { session, specs } = scripted([first, outcome({})]);
      const run = await compileInSession(session, ["/usr/bin/gcc"], { A: "1" });
      assert.equal(run.attempts, 1);
      assert.equal(specs.length, 1);
      assert.deepEqual(specs[0]!.env, { A: "1" });
    }
  });
  it("an abort during the first run is not retried", async () => {
    const controller = new AbortController();
    const { session } = scripted([STALLED, outcome({})]);
    const run = session.run.bind(session);
    session.run = async (spec) => {
      const result = await run(spec);
      controller.abort();
      return result;
    };
    await assert.rejects(compileInSession(session, ["/usr/bin/javac"], undefined, controller.signal), { name: "AbortError" });
  });
});
