// The interactive decision rules (interactive-protocol.ts), from facts alone: which side's
// outcome wins, the wrapper's report split, and a shell's 128+N status as a signal.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunLimits, RunOutcome } from "../src/sandbox/sandbox.js";
import { decideInteractive, interactorArgv, interactorLimits, reportAsCheckerOutput } from "../src/interactive/interactive-protocol.js";

const LIMITS: RunLimits = { cpuTimeMs: 1_000, wallTimeMs: 3_000, memoryBytes: 64 << 20, outputBytes: 1 << 20, processes: 8, fileSizeBytes: 1 << 20 };
const HELPER = interactorLimits(3_000);
const PYTHON = { outOfMemory: ["MemoryError"] };

function outcome(over: Partial<RunOutcome> = {}): RunOutcome {
  return { exitCode: 0, signal: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), stdoutBytes: 0, stderrBytes: 0, cpuTimeMs: 10, wallTimeMs: 20, memoryKb: 5_000, cgroupPeakKb: 6_000, oomKilled: false, memoryLimitHit: false, watchdog: null, ...over };
}
const report = (text: string, exitCode: number | null, more: Partial<RunOutcome> = {}) => outcome({ exitCode, stderr: Buffer.from(text), stderrBytes: text.length, ...more });
const decideTestlib = (program: RunOutcome, helper: RunOutcome) => decideInteractive("testlib", program, LIMITS, helper, HELPER, PYTHON);

describe("interactive decisions", () => {
  it("accepted and clean is Success with the interactor's message", () => {
    assert.deepEqual(decideTestlib(outcome(), report("\nfound it", 0)), { kind: "status", status: "Success", hit: null, extra: { checkerMessage: "found it" } });
  });

  it("a program limit wins over anything the interactor said", () => {
    const tle = decideTestlib(outcome({ exitCode: null, signal: "SIGKILL", watchdog: "wall", wallTimeMs: 3_001 }), report("", null, { signal: "SIGKILL", watchdog: "wall" }));
    assert.equal(tle.kind === "status" && tle.status, "TLE");
    const mle = decideTestlib(outcome({ exitCode: null, signal: "SIGKILL", oomKilled: true }), report("\n", 1));
    assert.equal(mle.kind === "status" && mle.status, "MLE");
  });

  it("a program that wrote more than its output limit towards the interactor is OLE, even when the interactor then failed (its memory limit, a kill)", () => {
    const flood = outcome({ exitCode: null, signal: "SIGKILL", stdoutBytes: LIMITS.outputBytes + 1, watchdog: "output" });
    for (const helper of [report("", null, { signal: "SIGKILL", oomKilled: true, memoryLimitHit: true }), report("", null, { signal: "SIGKILL" }), report("\nno answer", 1)]) {
      const decided = decideTestlib(flood, helper);
      assert.equal(decided.kind === "status" && decided.status, "OLE", JSON.stringify(decided));
    }
    // The count alone is the fact (an engine that saw the bytes but killed nothing).
    const counted = decideTestlib(outcome({ stdoutBytes: LIMITS.outputBytes + 1 }), report("\n", 0));
    assert.equal(counted.kind === "status" && counted.status, "OLE");
    // Within the limit it is not the program's: the interactor's own memory limit stays IE.
    const within = decideTestlib(outcome({ exitCode: null, signal: "SIGPIPE", stdoutBytes: LIMITS.outputBytes }), report("", null, { signal: "SIGKILL", oomKilled: true }));
    assert.equal(within.kind, "failure");
  });

  it("an interactor that failed is a failure (IE), with signals read from the wrapper's 128+N", () => {
    assert.deepEqual(decideTestlib(outcome(), report("\n", 134)), { kind: "failure", reason: "the interactor was killed by SIGABRT" });
    assert.equal(decideTestlib(outcome(), report("\n", 3)).kind, "failure");
    assert.equal(decideTestlib(outcome(), report("", null, { signal: "SIGKILL", watchdog: "cpu", cpuTimeMs: 10_001 })).kind, "failure");
    assert.equal(decideInteractive("kattis", outcome(), LIMITS, report("\n", 0), HELPER, PYTHON).kind, "failure", "kattis: 0 is neither 42 nor 43");
  });

  it("a rejection is WA even when the program then exited with an error or died of SIGPIPE", () => {
    for (const program of [outcome({ exitCode: 1 }), outcome({ exitCode: null, signal: "SIGPIPE" })]) {
      const decided = decideTestlib(program, report("\nwrong", 1));
      assert.equal(decided.kind === "status" && decided.status, "WA");
    }
  });

  it("a crash (a signal other than SIGPIPE) or a runtime's out-of-memory is RE / MLE whatever the interactor made of it", () => {
    const crash = decideTestlib(outcome({ exitCode: null, signal: "SIGSEGV" }), report("\neof", 1));
    assert.equal(crash.kind === "status" && crash.status, "RE");
    const oom = decideTestlib(outcome({ exitCode: 1, stderr: Buffer.from("MemoryError\n") }), report("\neof", 1));
    assert.equal(oom.kind === "status" && oom.status, "MLE");
  });

  it("accepted but the program failed afterwards is RE", () => {
    const decided = decideTestlib(outcome({ exitCode: 2 }), report("\n", 0));
    assert.equal(decided.kind === "status" && decided.status, "RE");
  });

  it("testlib partial credit: the score is the first line of the interactor's <output>", () => {
    const decided = decideTestlib(outcome(), report("0.25\nhalf way", 7));
    assert.deepEqual(decided, { kind: "status", status: "WA", hit: null, extra: { score: 0.25, checkerMessage: "half way" } });
  });

  it("the report splits at its first newline; the wrapper's argv describes fd 3", () => {
    const split = reportAsCheckerOutput(report("1\nline one\nline two", 0));
    assert.equal(split.stdout.toString(), "1");
    assert.equal(split.stderr.toString(), "line one\nline two");
    const argv = interactorArgv("testlib", 3, 4, [{ name: "main", bytes: 10, executable: true }], ["/tmp/main"]);
    assert.deepEqual(argv.slice(3), ["interactor-wrapper", "3", "4", "1", "main", "10", "500", "/tmp/main"]);
  });
});
