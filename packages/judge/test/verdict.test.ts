// classifyRun(): the one place that turns an engine's measurements into a limit verdict.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunLimits, RunOutcome } from "../src/sandbox/sandbox.js";
import { classifyRun, reportedMemoryKb } from "../src/verdict.js";

const LIMITS: RunLimits = { cpuTimeMs: 1000, wallTimeMs: 3000, memoryBytes: 256 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 1 << 20 };

function outcome(facts: Partial<RunOutcome> = {}): RunOutcome {
  return {
    exitCode: 0,
    signal: null,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    stdoutBytes: 0,
    stderrBytes: 0,
    cpuTimeMs: 10,
    wallTimeMs: 20,
    memoryKb: 1000,
    cgroupPeakKb: 1200,
    oomKilled: false,
    memoryLimitHit: false,
    watchdog: null,
    ...facts,
  };
}

describe("classifyRun", () => {
  it("a clean run hit no limit", () => {
    assert.equal(classifyRun(outcome(), LIMITS), null);
    assert.equal(classifyRun(outcome({ exitCode: 3 }), LIMITS), null);
  });
  it("memory comes from the cgroup, never from a signal", () => {
    assert.equal(classifyRun(outcome({ oomKilled: true, signal: "SIGKILL", exitCode: null }), LIMITS), "memory");
    assert.equal(classifyRun(outcome({ memoryLimitHit: true, exitCode: 1 }), LIMITS), "memory");
    // Reaching the ceiling (page cache reclaimed) and then succeeding is not MLE.
    assert.equal(classifyRun(outcome({ memoryLimitHit: true }), LIMITS), null);
    assert.equal(classifyRun(outcome({ signal: "SIGKILL", exitCode: null }), LIMITS), null);
  });
  it("memory wins over the watchdogs, output over time", () => {
    assert.equal(classifyRun(outcome({ oomKilled: true, watchdog: "cpu", cpuTimeMs: 5000 }), LIMITS), "memory");
    assert.equal(classifyRun(outcome({ watchdog: "output", cpuTimeMs: 5000 }), LIMITS), "output");
    assert.equal(classifyRun(outcome({ stdoutBytes: 1 << 20, stderrBytes: 1 }), LIMITS), "output");
  });
  it("time verdicts come from measured time or a watchdog", () => {
    assert.equal(classifyRun(outcome({ watchdog: "cpu", signal: "SIGKILL", exitCode: null }), LIMITS), "time");
    assert.equal(classifyRun(outcome({ cpuTimeMs: 1001 }), LIMITS), "time");
    assert.equal(classifyRun(outcome({ watchdog: "wall", signal: "SIGKILL", exitCode: null }), LIMITS), "wall");
    assert.equal(classifyRun(outcome({ wallTimeMs: 3001 }), LIMITS), "wall");
  });
  it("a self-raised SIGXCPU within the limit is not a time verdict", () => {
    assert.equal(classifyRun(outcome({ signal: "SIGXCPU", exitCode: null, cpuTimeMs: 0 }), LIMITS), null);
    assert.equal(classifyRun(outcome({ signal: "SIGXCPU", exitCode: null, cpuTimeMs: 2100 }), LIMITS), "time");
  });
  it("reports the larger peak when memory was the limit", () => {
    assert.equal(reportedMemoryKb(outcome({ memoryKb: 10, cgroupPeakKb: 300 }), "memory"), 300);
    assert.equal(reportedMemoryKb(outcome({ memoryKb: 10, cgroupPeakKb: 300 }), null), 10);
    assert.equal(reportedMemoryKb(outcome({ memoryKb: 0, cgroupPeakKb: 300 }), null), 300);
  });
});
