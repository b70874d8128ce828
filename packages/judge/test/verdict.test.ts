// classifyRun(): the one place that turns an engine's measurements into a limit verdict.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunLimits, RunOutcome } from "../src/sandbox/sandbox.js";
import { LANGUAGE_REGISTRY } from "../src/languages.js";
import { classifyRun, failureMessage, ranOutOfMemory, reportedMemoryKb, runStatus, testResult } from "../src/verdict.js";

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

describe("runStatus", () => {
  const java = LANGUAGE_REGISTRY.JAVA;
  const oom = outcome({ exitCode: 1, stderr: Buffer.from('Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n') });
  it("a runtime's own out-of-memory is MLE, even below the cgroup limit", () => {
    assert.equal(runStatus(oom, classifyRun(oom, LIMITS), java), "MLE");
    assert.ok(ranOutOfMemory(outcome({ signal: "SIGABRT", exitCode: null, stderr: Buffer.from("terminate called after throwing an instance of 'std::bad_alloc'") }), LANGUAGE_REGISTRY.CPP));
    assert.ok(ranOutOfMemory(outcome({ exitCode: 2, stderr: Buffer.from("fatal error: runtime: out of memory") }), LANGUAGE_REGISTRY.GO));
    assert.ok(ranOutOfMemory(outcome({ exitCode: 1, stderr: Buffer.from("MemoryError") }), LANGUAGE_REGISTRY.PYTHON));
    assert.ok(ranOutOfMemory(outcome({ signal: "SIGABRT", exitCode: null, stderr: Buffer.from("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory") }), LANGUAGE_REGISTRY.JAVASCRIPT));
    assert.ok(ranOutOfMemory(outcome({ signal: "SIGABRT", exitCode: null, stderr: Buffer.from("memory allocation of 17592186044416 bytes failed") }), LANGUAGE_REGISTRY.RUST));
  });
  it("but not when the program exited cleanly, nor a thread bomb's native-thread error, nor another language's signature", () => {
    assert.equal(runStatus(outcome({ stderr: oom.stderr }), null, java), null);
    const threads = outcome({ exitCode: 1, stderr: Buffer.from("java.lang.OutOfMemoryError: unable to create native thread") });
    assert.equal(runStatus(threads, null, java), "RE");
    assert.equal(runStatus(outcome({ exitCode: 1, stderr: Buffer.from("MemoryError") }), null, LANGUAGE_REGISTRY.C), "RE");
  });
  it("finds the signature at the end of a long stderr", () => {
    const noisy = Buffer.concat([Buffer.alloc(1 << 20, 0x2e), Buffer.from("\nMemoryError\n")]);
    assert.equal(runStatus(outcome({ exitCode: 1, stderr: noisy }), null, LANGUAGE_REGISTRY.PYTHON), "MLE");
  });
  it("limits map to TLE, MLE, OLE; a clean run is left to the checker", () => {
    assert.equal(runStatus(outcome(), null, java), null);
    assert.equal(runStatus(outcome({ signal: "SIGKILL", exitCode: null }), "time", java), "TLE");
    assert.equal(runStatus(outcome({ signal: "SIGKILL", exitCode: null }), "wall", java), "TLE");
    assert.equal(runStatus(outcome({ signal: "SIGKILL", exitCode: null }), "output", java), "OLE");
    assert.equal(runStatus(outcome({ signal: "SIGXCPU", exitCode: null }), null, java), "RE");
  });
});

describe("hidden tests", () => {
  const re = outcome({ exitCode: 42 });
  it("show status, time and memory only", () => {
    const hidden = testResult(3, "RE", re, null, true);
    assert.deepEqual(Object.keys(hidden).sort(), ["index", "memoryKb", "status", "timeMs", "wallTimeMs"]);
    assert.equal(failureMessage("RE", 3, re, true), "Runtime error on test 4");
  });
  it("visible tests keep the exit code or signal", () => {
    assert.equal(testResult(0, "RE", re, null, false).exitCode, 42);
    assert.equal(testResult(0, "RE", outcome({ signal: "SIGSEGV", exitCode: null }), null, false).signal, "SIGSEGV");
    assert.equal(failureMessage("RE", 0, re, false), "Runtime error on test 1: exit code 42");
  });
});
