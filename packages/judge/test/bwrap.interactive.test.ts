// Interactive problems on the bwrap engine (needs root and the runtime rootfs): the guessing
// game of interactive.fixtures.ts against a C interactor (testlib protocol) and a Python one
// (kattis protocol), with right, wrong, quitting, idle, crashing and spinning programs, a
// crashing interactor (IE), and a program that looks for its interactor from inside.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Interactor, JudgeRequest } from "@sonocode/contracts";
import { classifyRun, createBwrapEngine, createJudgeWithEngine, DEFAULT_ROOTFS, type Judge, type SandboxEngine } from "../src/index.js";
import { BULK_COUNTER_C, bulkInteractor, kattisInteractor, LINE_PROGRAMS, linesInteractor, PAIR_LIMITS, PROGRAMS, testlibInteractor, towardsHelperFacts, WRITES_BEFORE_READING_PY } from "./interactive.fixtures.js";

const rootfs = process.env.SONOCODE_TEST_ROOTFS || DEFAULT_ROOTFS;

function request(program: keyof typeof PROGRAMS, interactor: Interactor, secrets: number[], extra: Partial<JudgeRequest> = {}): JudgeRequest {
  return {
    language: "PYTHON",
    source: PROGRAMS[program],
    // The answer file is unused by this game's interactors; it still reaches them (kattis: argv[2]).
    tests: secrets.map((secret, i) => ({ input: `${secret}\n`, output: "", hidden: i > 0 })),
    timeLimitMs: 500,
    memoryLimitMb: 64,
    interactor,
    runAllTests: true,
    ...extra,
  };
}

/** The line game (linesInteractor): one test of `rounds` rounds; a time limit that lets a flood reach its output limit first. */
function linesRequest(program: keyof typeof LINE_PROGRAMS, rounds: number): JudgeRequest {
  const { language, source } = LINE_PROGRAMS[program];
  return { language, source, tests: [{ input: `${rounds}\n`, output: "", hidden: false }], timeLimitMs: 5_000, memoryLimitMb: 64, interactor: linesInteractor };
}

describe("interactive problems (bwrap)", { concurrency: 1 }, () => {
  let judge: Judge;
  let engine: SandboxEngine;
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "sonocode-interactor-cache-test-"));
    engine = createBwrapEngine({ rootfs });
    await engine.check();
    judge = createJudgeWithEngine(engine, { maxConcurrency: 1, checkerCacheDir: cacheDir });
  });
  after(async () => {
    await judge?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  describe("testlib protocol, interactor in C", () => {
    it("a right program is accepted on every test; its own time and memory are reported; the interactor ran as another uid", async () => {
      const verdict = await judge.judge(request("right", testlibInteractor, [37, 100, 1]));
      assert.equal(verdict.status, "Success", JSON.stringify(verdict));
      assert.equal(verdict.passed, 3);
      const [first] = verdict.results;
      assert.ok(first && first.memoryKb > 1000 && first.memoryKb < 64 * 1024, `the program's memory is its own: ${first?.memoryKb} KiB`);
      assert.ok(first.timeMs < 500);
      // The interactor's message (visible test only) names its uid: the slot's helper uid, not the program's (61000 + slot).
      const uid = Number(/as uid (\d+)/.exec(first.checkerMessage ?? "")?.[1]);
      assert.ok(uid >= 62_000 && uid < 63_000, `interactor uid ${uid}: ${first.checkerMessage}`);
      assert.equal(verdict.results[1]?.checkerMessage, undefined, "a hidden test shows no interactor message");
    });

    it("a wrong program gets the interactor's WA, with its message on a visible test", async () => {
      const verdict = await judge.judge(request("wrong", testlibInteractor, [5, 60]));
      assert.deepEqual(verdict.results.map((r) => r.status), ["Success", "WA"]);
      assert.equal(verdict.status, "WA");
      const visible = await judge.judge(request("wrong", testlibInteractor, [60]));
      assert.equal(visible.results[0]?.checkerMessage, "too many guesses");
    });

    it("a program that writes garbage and quits gets WA from the interactor, not RE or IE", async () => {
      const verdict = await judge.judge(request("quits", testlibInteractor, [42]));
      assert.equal(verdict.status, "WA", JSON.stringify(verdict.results));
      assert.match(verdict.results[0]?.checkerMessage ?? "", /no guess 1/);
    });

    it("an idle program and its waiting interactor end as TLE on wall time", async () => {
      const started = Date.now();
      const verdict = await judge.judge(request("idle", testlibInteractor, [42]));
      assert.equal(verdict.status, "TLE", JSON.stringify(verdict.results));
      const result = verdict.results[0]!;
      assert.ok(result.wallTimeMs !== undefined && result.wallTimeMs >= 2_000, `killed at the wall limit (2 s): ${result.wallTimeMs}`);
      assert.ok(result.timeMs < 500, "the idle program used little CPU");
      assert.ok(Date.now() - started < 30_000);
    });

    it("a program spinning on the CPU is TLE (by its own CPU time, or on a machine too busy to give it 0.5 s of CPU, by wall time)", async () => {
      const verdict = await judge.judge(request("spins", testlibInteractor, [42]));
      assert.equal(verdict.status, "TLE");
      const { timeMs, wallTimeMs = 0 } = verdict.results[0]!;
      assert.ok(timeMs >= 500 || wallTimeMs >= 2_000, `cpu ${timeMs} ms, wall ${wallTimeMs} ms`);
    });

    it("a program over its memory limit is MLE by its own cgroup (the interactor's memory is not charged to it)", async () => {
      const verdict = await judge.judge(request("hogs", testlibInteractor, [42]));
      assert.equal(verdict.status, "MLE", JSON.stringify(verdict.results));
    });

    it("a program that crashes mid-game is RE, even though the interactor then sees EOF", async () => {
      const verdict = await judge.judge(request("crashes", testlibInteractor, [42]));
      assert.equal(verdict.status, "RE", JSON.stringify(verdict.results));
      assert.equal(verdict.results[0]?.signal, "SIGSEGV");
    });

    it("an interactor that crashes is IE for the submission, never the program's fault; earlier tests keep their results", async () => {
      const verdict = await judge.judge(request("right", testlibInteractor, [37, 0]));
      assert.equal(verdict.status, "IE");
      assert.match(verdict.message ?? "", /interactor failed on test 2 \(the interactor was killed by SIGABRT\).*not at fault/);
      assert.deepEqual(verdict.results.map((r) => r.status), ["Success"]);
    });

    it("the program sees nothing of its interactor: no process, no file", async () => {
      const verdict = await judge.judge(request("looks", testlibInteractor, [77]));
      assert.equal(verdict.status, "Success", JSON.stringify(verdict.results));
    });
  });

  describe("kattis protocol, interactor in Python", () => {
    it("a right program is accepted, a wrong one rejected with judgemessage.txt as its message", async () => {
      const right = await judge.judge(request("right", kattisInteractor, [64, 2]));
      assert.equal(right.status, "Success", JSON.stringify(right));
      assert.match(right.results[0]?.checkerMessage ?? "", /found in \d guesses/);
      const wrong = await judge.judge(request("wrong", kattisInteractor, [99]));
      assert.equal(wrong.status, "WA");
      assert.equal(wrong.results[0]?.checkerMessage, "too many guesses");
    });

    it("garbage from the program is WA; an idle program is TLE; a crashing program is RE", async () => {
      const garbage = await judge.judge(request("quits", kattisInteractor, [10]));
      assert.equal(garbage.status, "WA");
      assert.match(garbage.results[0]?.checkerMessage ?? "", /not a number: 'hello/);
      assert.equal((await judge.judge(request("idle", kattisInteractor, [10]))).status, "TLE");
      assert.equal((await judge.judge(request("crashes", kattisInteractor, [10]))).status, "RE");
    });

    it("a validator that fails (exit 1, neither 42 nor 43) is IE", async () => {
      const verdict = await judge.judge(request("right", kattisInteractor, [0]));
      assert.equal(verdict.status, "IE");
      assert.match(verdict.message ?? "", /interactor exited with 1 \(42 accepts, 43 rejects\)/);
    });
  });

  describe("a program flooding its interactor (the program's stdout is counted on its way to the interactor)", () => {
    it("digits for ever without a newline, into an interactor reading a line into a growing buffer, is OLE, not IE", async () => {
      for (const program of ["floods", "floodsPython"] as const) {
        const started = Date.now();
        const verdict = await judge.judge(linesRequest(program, 3));
        assert.equal(verdict.status, "OLE", `${program}: ${JSON.stringify(verdict)}`);
        assert.equal(verdict.results[0]?.status, "OLE");
        assert.doesNotMatch(verdict.message ?? "", /interactor/);
        // Stopped at 64 MiB (its output limit), long before its 5 s of CPU.
        assert.ok(verdict.results[0]!.timeMs < 5_000, `${program}: ${verdict.results[0]!.timeMs} ms of CPU`);
        assert.ok(Date.now() - started < 30_000);
      }
    });

    it("the engine's facts: the program's stdout towards the helper is counted (to one byte past the limit), not kept, and ends the pair as an output kill", async () => {
      const session = await engine.open();
      try {
        const { flood, small } = await towardsHelperFacts(session);
        assert.equal(flood.program.stdoutBytes, PAIR_LIMITS.outputBytes + 1, JSON.stringify({ ...flood.program, stdout: undefined, stderr: undefined }));
        assert.equal(flood.program.watchdog, "output");
        assert.equal(flood.program.stdout.length, 0);
        assert.equal(classifyRun(flood.program, PAIR_LIMITS), "output");
        assert.equal(small.program.stdoutBytes, 5);
        assert.equal(small.program.exitCode, 0);
        assert.equal(classifyRun(small.program, PAIR_LIMITS), null);
        assert.equal(small.helper.exitCode, 0, "the helper read the program's EOF");
      } finally {
        await session.dispose();
      }
    });

    it("an interactor sending the program 1.2 MB (more than its own 1 MiB report limit) is not capped: Success", async () => {
      const verdict = await judge.judge({ language: "C", source: BULK_COUNTER_C, tests: [{ input: "1\n", output: "", hidden: false }], timeLimitMs: 2_000, memoryLimitMb: 64, interactor: bulkInteractor });
      assert.equal(verdict.status, "Success", JSON.stringify(verdict));
      assert.equal(verdict.results[0]?.checkerMessage, "counted");
    });

    it("an interactor sending 1.2 MB to a program that never reads blocks (held back, not buffered by the host) until the wall limit: TLE, not IE", async () => {
      const verdict = await judge.judge({ language: "PYTHON", source: PROGRAMS.idle, tests: [{ input: "1\n", output: "", hidden: false }], timeLimitMs: 500, memoryLimitMb: 64, interactor: bulkInteractor });
      assert.equal(verdict.status, "TLE", JSON.stringify(verdict));
    });

    it("a program writing 4 MB before reading, against an interactor sending 1.2 MB before reading: both block until the wall limit: TLE, not IE", async () => {
      const started = Date.now();
      const verdict = await judge.judge({ language: "PYTHON", source: WRITES_BEFORE_READING_PY, tests: [{ input: "1\n", output: "", hidden: false }], timeLimitMs: 500, memoryLimitMb: 64, interactor: bulkInteractor });
      assert.equal(verdict.status, "TLE", JSON.stringify(verdict));
      assert.ok(Date.now() - started < 8_000, `${Date.now() - started} ms`);
    });

    it("an honest program answering line by line is accepted", async () => {
      const verdict = await judge.judge(linesRequest("doubles", 2_000));
      assert.equal(verdict.status, "Success", JSON.stringify(verdict));
      assert.equal(verdict.results[0]?.checkerMessage, "2000 rounds");
    });
  });

  it("an interactor that does not build is IE before any test runs", async () => {
    const broken: Interactor = { protocol: "testlib", language: "C", source: "int main( {" };
    const verdict = await judge.judge(request("right", broken, [5]));
    assert.equal(verdict.status, "IE");
    assert.match(verdict.message ?? "", /interactor does not compile/);
    assert.deepEqual(verdict.results, []);
  });
});
