// Every language end to end on the bwrap engine: A+B accepted (under 256 MiB, no
// false MLE for JVM/Go/Node/Python), and WA, CE, RE, TLE and MLE each detected.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LANGUAGES, verdictSchema, type Verdict } from "@sonocode/contracts";
import { createJudge, type Judge } from "../src/index.js";
import { AB_TESTS, PROGRAMS } from "./solutions.js";

describe("languages (bwrap)", () => {
  let judge: Judge;
  before(async () => {
    judge = await createJudge({ engine: "bwrap", maxConcurrency: 2 });
  });
  after(() => judge?.close());

  const run = async (language: (typeof LANGUAGES)[number], kind: keyof (typeof PROGRAMS)["C"], extra: object = {}): Promise<Verdict> => {
    const verdict = await judge.judge({ language, source: PROGRAMS[language][kind], tests: AB_TESTS, timeLimitMs: 1000, ...extra });
    verdictSchema.parse(verdict);
    return verdict;
  };

  for (const language of LANGUAGES) {
    describe(language, { concurrency: 2 }, () => {
      it("accepts A+B under 256 MiB", async () => {
        const progress: number[] = [];
        const v = await judge.judge(
          { language, source: PROGRAMS[language].ok, tests: AB_TESTS, memoryLimitMb: 256 },
          { onProgress: (p) => void progress.push(p.passed) },
        );
        assert.equal(v.status, "Success", JSON.stringify(v));
        assert.equal(v.passed, 3);
        assert.equal(v.total, 3);
        assert.deepEqual(progress, [1, 2, 3]);
        assert.equal(v.results.length, 3);
        assert.ok(v.memoryKb !== null && v.memoryKb > 0 && v.memoryKb < 256 * 1024);
        assert.equal(v.failedTest, null);
      });
      it("WA with the failed test shown", async () => {
        const v = await run(language, "wa");
        assert.equal(v.status, "WA", JSON.stringify(v));
        assert.equal(v.results.length, 1, "stops at the first failing test");
        assert.equal(v.failedTest?.index, 0);
        assert.equal(v.failedTest?.expected, "3\n");
      });
      it("CE with compiler output", async () => {
        const v = await run(language, "ce");
        assert.equal(v.status, "CE", JSON.stringify(v));
        assert.ok((v.compileOutput ?? "").length > 0);
        assert.ok(!(v.compileOutput ?? "").includes("/sonocode-judge/"), "no host paths");
        assert.deepEqual(v.results, []);
      });
      it("RE", async () => {
        const v = await run(language, "re");
        assert.equal(v.status, "RE", JSON.stringify(v));
        const r = v.results[0]!;
        assert.ok(r.signal !== undefined || (r.exitCode !== undefined && r.exitCode !== 0));
        assert.ok(v.message?.includes("Runtime error"));
      });
      it("TLE", async () => {
        const v = await run(language, "tle");
        assert.equal(v.status, "TLE", JSON.stringify(v));
      });
      it("MLE", async () => {
        const v = await run(language, "mle", { timeLimitMs: 5000 });
        assert.equal(v.status, "MLE", JSON.stringify(v));
      });
    });
  }

  it("hidden tests are never shown, runAllTests judges every test", async () => {
    const v = await judge.judge({
      language: "PYTHON",
      source: "a, b = map(int, input().split())\nprint(a + b if a != 1 else 0)",
      tests: [{ ...AB_TESTS[0]!, hidden: true }, AB_TESTS[1]!, AB_TESTS[2]!],
      runAllTests: true,
    });
    assert.equal(v.status, "WA");
    assert.equal(v.passed, 2);
    assert.equal(v.results.length, 3);
    assert.equal(v.failedTest, null);
  });

  it("a Java program without a class Main is CE, not RE on every test", async () => {
    const v = await judge.judge({
      language: "JAVA",
      source: "import java.util.*;\nclass Solution { public static void main(String[] a) { System.out.println(3); } }",
      tests: AB_TESTS,
    });
    assert.equal(v.status, "CE", JSON.stringify(v));
    assert.match(v.message ?? "", /class named Main/);
    assert.deepEqual(v.results, []);
  });

  it("RE reports the signal name", async () => {
    const v = await judge.judge({ language: "C", source: "#include <signal.h>\nint main(void){raise(SIGFPE);return 0;}", tests: AB_TESTS });
    assert.equal(v.status, "RE");
    assert.equal(v.results[0]?.signal, "SIGFPE");
    // exit(139) is an exit code, not a SIGSEGV.
    const w = await judge.judge({ language: "C", source: "#include <stdlib.h>\nint main(void){exit(139);}", tests: AB_TESTS });
    assert.equal(w.status, "RE");
    assert.equal(w.results[0]?.exitCode, 139);
    assert.equal(w.results[0]?.signal, undefined);
  });

  it("checker from the request and long output truncated for display", async () => {
    const f = await judge.judge({ language: "PYTHON", source: "print(1/3)", tests: [{ input: "", output: "0.333333" }], checker: { type: "float", epsilon: 1e-4 } });
    assert.equal(f.status, "Success");
    const long = await judge.judge({ language: "PYTHON", source: "print('y' * 100000)", tests: [{ input: "", output: "x" }] });
    assert.equal(long.status, "WA");
    assert.ok(long.failedTest!.actual.length < 5000);
  });

  it("abort signal stops judging", async () => {
    const controller = new AbortController();
    const pending = judge.judge({ language: "PYTHON", source: "import time\ntime.sleep(30)", tests: AB_TESTS, timeLimitMs: 10_000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("cancelled")), 500);
    const t0 = Date.now();
    await assert.rejects(pending, /cancelled/);
    assert.ok(Date.now() - t0 < 5_000);
  });
});
