// Every language end to end on the bwrap engine (the whole languages.suite.ts), and the
// judge's own rules around it. SONOCODE_TEST_ROOTFS: another runtime rootfs to test.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createBwrapEngine, createJudge, createJudgeWithEngine, DEFAULT_ROOTFS, type Judge, type SandboxEngine } from "../src/index.js";
import { defineLanguageSuite } from "./languages.suite.js";
import { AB_TESTS, PROGRAMS } from "./solutions.js";

const rootfs = process.env.SONOCODE_TEST_ROOTFS || DEFAULT_ROOTFS;

defineLanguageSuite({ engine: "bwrap", makeJudge: () => createJudge({ engine: "bwrap", rootfs, maxConcurrency: 2 }) });

describe("judge rules (bwrap)", () => {
  let judge: Judge;
  before(async () => {
    judge = await createJudge({ engine: "bwrap", rootfs, maxConcurrency: 2 });
  });
  after(() => judge?.close());

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

describe("one sandbox run per compile (bwrap)", () => {
  // The engine's sessions, counted: the artefact check rides along with the compile run.
  const argvs: string[][] = [];
  let judge: Judge;
  before(async () => {
    const inner = createBwrapEngine({ rootfs });
    await inner.check();
    const counting: SandboxEngine = {
      name: inner.name,
      check: () => inner.check(),
      close: () => inner.close(),
      async open() {
        const session = await inner.open();
        return {
          writeFile: (name, content) => session.writeFile(name, content),
          dispose: () => session.dispose(),
          run(spec) {
            argvs.push([...spec.argv]);
            return session.run(spec);
          },
        };
      },
    };
    judge = createJudgeWithEngine(counting, { maxConcurrency: 1 });
  });
  after(() => judge?.close());

  for (const [language, outcome] of [["JAVA", "Success"], ["PYTHON", "Success"]] as const) {
    it(`${language}: compile + 3 tests = 4 runs`, async () => {
      argvs.length = 0;
      const v = await judge.judge({ language, source: PROGRAMS[language].ok, tests: AB_TESTS });
      assert.equal(v.status, outcome, JSON.stringify(v));
      assert.equal(argvs.length, 4, JSON.stringify(argvs));
    });
  }
  it("JAVA without class Main: CE after exactly one run", async () => {
    argvs.length = 0;
    const v = await judge.judge({ language: "JAVA", source: "class Solution { public static void main(String[] a) {} }", tests: AB_TESTS });
    assert.equal(v.status, "CE");
    assert.equal(argvs.length, 1);
  });
});
