// Interactive problems on the Docker engine (exec-pair.ts: the program in its container, the
// interactor in a container of its own, streams joined by the host): the guessing game of
// interactive.fixtures.ts with right, wrong, idle and crashing programs and a crashing
// interactor, on both protocols. Skips without a daemon.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Interactor, JudgeRequest } from "@sonocode/contracts";
import { classifyRun, createDockerEngine, createJudgeWithEngine, type Judge, type SandboxEngine } from "../src/index.js";
import { dockerSkipReason } from "./docker.availability.js";
import { BULK_COUNTER_C, bulkInteractor, kattisInteractor, LINE_PROGRAMS, linesInteractor, PAIR_LIMITS, PROGRAMS, testlibInteractor, towardsHelperFacts, WRITES_BEFORE_READING_PY } from "./interactive.fixtures.js";

const unavailable = await dockerSkipReason(createDockerEngine({}));

function request(program: keyof typeof PROGRAMS, interactor: Interactor, secrets: number[]): JudgeRequest {
  return {
    language: "PYTHON",
    source: PROGRAMS[program],
    tests: secrets.map((secret, i) => ({ input: `${secret}\n`, output: "", hidden: i > 0 })),
    timeLimitMs: 500,
    memoryLimitMb: 64,
    interactor,
    runAllTests: true,
  };
}

/** The line game (linesInteractor): one test of `rounds` rounds; a time limit that lets a flood reach its output limit first. */
function linesRequest(program: keyof typeof LINE_PROGRAMS, rounds: number): JudgeRequest {
  const { language, source } = LINE_PROGRAMS[program];
  return { language, source, tests: [{ input: `${rounds}\n`, output: "", hidden: false }], timeLimitMs: 5_000, memoryLimitMb: 64, interactor: linesInteractor };
}

describe("interactive problems (docker)", { skip: unavailable ?? false, concurrency: 1 }, () => {
  let judge: Judge;
  let engine: SandboxEngine;
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "sonocode-interactor-docker-test-"));
    engine = createDockerEngine({});
    judge = createJudgeWithEngine(engine, { maxConcurrency: 1, checkerCacheDir: cacheDir });
  });
  after(async () => {
    await judge?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it("testlib (C): right is accepted, counting up is WA, an idle program is TLE, a crash is RE, a crashing interactor is IE", async () => {
    const right = await judge.judge(request("right", testlibInteractor, [37, 100]));
    assert.equal(right.status, "Success", JSON.stringify(right));
    assert.match(right.results[0]?.checkerMessage ?? "", /found in \d guesses/);
    assert.equal((await judge.judge(request("wrong", testlibInteractor, [60]))).status, "WA");
    assert.equal((await judge.judge(request("idle", testlibInteractor, [60]))).status, "TLE");
    assert.equal((await judge.judge(request("crashes", testlibInteractor, [60]))).status, "RE");
    const broken = await judge.judge(request("right", testlibInteractor, [0]));
    assert.equal(broken.status, "IE");
    assert.match(broken.message ?? "", /interactor failed on test 1 \(the interactor was killed by SIGABRT\)/);
  });

  it("kattis (Python): right is accepted, garbage is WA with judgemessage.txt, the program sees nothing of its interactor", async () => {
    assert.equal((await judge.judge(request("right", kattisInteractor, [64]))).status, "Success");
    const garbage = await judge.judge(request("quits", kattisInteractor, [10]));
    assert.equal(garbage.status, "WA");
    assert.match(garbage.results[0]?.checkerMessage ?? "", /not a number/);
    assert.equal((await judge.judge(request("looks", kattisInteractor, [77]))).status, "Success");
  });

  it("a program flooding its interactor with digits and no newline is OLE (its stdout counted on the way), not IE; an honest one is accepted", async () => {
    for (const program of ["floods", "floodsPython"] as const) {
      const verdict = await judge.judge(linesRequest(program, 3));
      assert.equal(verdict.status, "OLE", `${program}: ${JSON.stringify(verdict)}`);
      assert.doesNotMatch(verdict.message ?? "", /interactor/);
    }
    const honest = await judge.judge(linesRequest("doubles", 2_000));
    assert.equal(honest.status, "Success", JSON.stringify(honest));
    assert.equal(honest.results[0]?.checkerMessage, "2000 rounds");
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

  it("the engine's facts: the program's stdout towards the helper is counted, not kept, and past the limit is an output kill", async () => {
    const session = await engine.open();
    try {
      const { flood, small } = await towardsHelperFacts(session);
      assert.ok(flood.program.stdoutBytes > PAIR_LIMITS.outputBytes, `${flood.program.stdoutBytes} bytes`);
      assert.equal(flood.program.watchdog, "output");
      assert.equal(flood.program.stdout.length, 0, "the helper's bytes are not kept");
      assert.equal(classifyRun(flood.program, PAIR_LIMITS), "output");
      assert.equal(small.program.stdoutBytes, 5);
      assert.equal(small.program.exitCode, 0);
      assert.equal(classifyRun(small.program, PAIR_LIMITS), null);
      assert.equal(small.helper.exitCode, 0, "the helper read the program's EOF");
    } finally {
      await session.dispose();
    }
  });
});
