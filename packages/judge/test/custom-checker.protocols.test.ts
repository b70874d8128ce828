// What a custom checker's exit means, for both protocols (pure: facts of one run in, a decision out).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHECKER_RUN_LIMITS, decide, partialScore, WRAPPER_FAILED_EXIT } from "../src/custom-checker/protocols.js";
import type { RunOutcome } from "../src/sandbox/sandbox.js";

function run(overrides: Partial<RunOutcome> = {}): RunOutcome {
  return {
    exitCode: 0, signal: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), stdoutBytes: 0, stderrBytes: 0,
    cpuTimeMs: 5, wallTimeMs: 10, memoryKb: 1024, cgroupPeakKb: 1024, oomKilled: false, memoryLimitHit: false, watchdog: null,
    ...overrides,
  };
}
const kinds = (protocol: "testlib" | "kattis", outcome: RunOutcome) => {
  const d = decide(protocol, outcome);
  return d.kind === "verdict" ? `${d.status}${d.score === null ? "" : `:${d.score}`}` : "failure";
};

describe("custom checker protocols", () => {
  it("testlib: 0 accepts, 1 and 2 (presentation) reject, 7 is partial with the score first on stdout, 3 and the rest are failures", () => {
    assert.equal(kinds("testlib", run({ exitCode: 0 })), "Success");
    assert.equal(kinds("testlib", run({ exitCode: 1 })), "WA");
    assert.equal(kinds("testlib", run({ exitCode: 2 })), "WA");
    assert.equal(kinds("testlib", run({ exitCode: 7, stdout: Buffer.from(" 0.25 points\n") })), "WA:0.25");
    assert.equal(kinds("testlib", run({ exitCode: 7, stdout: Buffer.from("1\n") })), "Success:1");
    assert.equal(kinds("testlib", run({ exitCode: 7, stdout: Buffer.from("1.5\n") })), "failure", "a score outside [0, 1]");
    assert.equal(kinds("testlib", run({ exitCode: 7 })), "failure", "partial credit without a score");
    assert.equal(kinds("testlib", run({ exitCode: 3 })), "failure");
    assert.equal(kinds("testlib", run({ exitCode: 4 })), "failure");
  });

  it("kattis: 42 accepts, 43 rejects, anything else is a failure (0 included)", () => {
    assert.equal(kinds("kattis", run({ exitCode: 42 })), "Success");
    assert.equal(kinds("kattis", run({ exitCode: 43 })), "WA");
    assert.equal(kinds("kattis", run({ exitCode: 0 })), "failure");
    assert.equal(kinds("kattis", run({ exitCode: 1 })), "failure");
  });

  it("a checker over its limits, killed, or whose files could not be written is a failure, never a verdict", () => {
    for (const protocol of ["testlib", "kattis"] as const) {
      assert.equal(kinds(protocol, run({ cpuTimeMs: CHECKER_RUN_LIMITS.cpuTimeMs + 1 })), "failure");
      assert.equal(kinds(protocol, run({ oomKilled: true, exitCode: null, signal: "SIGKILL" })), "failure");
      assert.equal(kinds(protocol, run({ watchdog: "wall", exitCode: null, signal: "SIGKILL" })), "failure");
      assert.equal(kinds(protocol, run({ exitCode: null, signal: "SIGSEGV" })), "failure");
      assert.equal(kinds(protocol, run({ exitCode: WRAPPER_FAILED_EXIT })), "failure");
    }
  });

  it("the checker's stderr becomes a capped, storable message", () => {
    const d = decide("testlib", run({ exitCode: 1, stderr: Buffer.concat([Buffer.from("bad\0"), Buffer.alloc(10_000, 0x61)]) }));
    assert.equal(d.kind, "verdict");
    if (d.kind !== "verdict") return;
    assert.ok(d.message?.startsWith("bad\u2400"));
    assert.ok((d.message?.length ?? 0) < 4_200);
    assert.match(d.message ?? "", /checker message truncated/);
    assert.equal(partialScore(Buffer.from("abc")), null);
  });
});
