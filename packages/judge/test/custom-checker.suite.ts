// Checkers chosen per problem, judged in a real sandbox (bwrap.custom-checker.test.ts and
// docker.custom-checker.test.ts run this same suite): a testlib-protocol checker in C (with a
// header from `files`, partial credit, its own failure), a Kattis validator in Python on tests
// from files, the build cache, fail-closed IE, and the built-in float / case-folding checkers.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Checker } from "@sonocode/contracts";
import { createJudgeWithEngine, type Judge, type SandboxEngine } from "../src/index.js";

// The header comes in through `files`, as a Polygon checker brings its testlib.h.
const VERDICTS_H = "enum { AC = 0, WA = 1, PE = 2, FAIL = 3, PARTIAL = 7 };\n";
const TESTLIB_C = `#include <stdio.h>
#include <stdlib.h>
#include "verdicts.h"
int main(int argc, char **argv) {
  if (argc != 4) return FAIL;
  FILE *in = fopen(argv[1], "r"), *out = fopen(argv[2], "r"), *ans = fopen(argv[3], "r");
  long n, got, want;
  if (!in || !out || !ans || fscanf(in, "%ld", &n) != 1 || fscanf(ans, "%ld", &want) != 1) return FAIL;
  if (n < 0) { fprintf(stderr, "the test's input is broken"); return FAIL; }
  if (fscanf(out, "%ld", &got) != 1) { fprintf(stderr, "no number in the output"); return PE; }
  if (got == want) return AC;
  if (labs(got - want) == 1) { printf("0.5\\n"); fprintf(stderr, "off by one: %ld instead of %ld", got, want); return PARTIAL; }
  fprintf(stderr, "expected %ld, got %ld", want, got);
  return WA;
}
`;
const testlibChecker = (source = TESTLIB_C): Checker => ({ type: "custom", protocol: "testlib", language: "C", source, files: [{ name: "verdicts.h", content: VERDICTS_H }] });

// Doubles n, except: 2 -> 5 (off by one), 3 -> 11 (wrong). It would print 0 if it could see a checker in its /box.
const DOUBLER = "import os\nn = int(input())\nif os.path.exists('/box/checker'):\n    print(0)\nelse:\n    print({2: 5, 3: 11}.get(n, 2 * n))\n";

const KATTIS_PY = `import sys
answer = open(sys.argv[2]).read().split()
output = sys.stdin.read().split()
if open(sys.argv[1]).read().strip() == "boom":
    raise SystemExit(5)
if output == answer:
    sys.exit(42)
with open(sys.argv[3] + "judgemessage.txt", "w") as feedback:
    feedback.write("wanted %s, got %s" % (" ".join(answer), " ".join(output)))
sys.exit(43)
`;
const kattisValidator: Checker = { type: "custom", protocol: "kattis", language: "PYTHON", source: KATTIS_PY };

export function defineCustomCheckerSuite(options: { engine: string; makeEngine: () => SandboxEngine }): void {
  describe(`custom and per-problem checkers (${options.engine})`, () => {
    let judge: Judge;
    let cacheDir: string;
    let dataDir: string;
    before(async () => {
      cacheDir = await mkdtemp(join(tmpdir(), "sonocode-checker-cache-test-"));
      dataDir = await mkdtemp(join(tmpdir(), "sonocode-checker-data-test-"));
      const engine = options.makeEngine();
      await engine.check();
      judge = createJudgeWithEngine(engine, { maxConcurrency: 2, checkerCacheDir: cacheDir });
    });
    after(async () => {
      await judge?.close();
      await Promise.all([rm(cacheDir, { recursive: true, force: true }), rm(dataDir, { recursive: true, force: true })]);
    });

    it("testlib checker in C: accept, partial credit with its score, wrong answer; messages for visible tests only; built once", async () => {
      const tests = [
        { input: "1\n", output: "2\n" },
        { input: "2\n", output: "4\n" },
        { input: "3\n", output: "6\n", hidden: true },
      ];
      const v = await judge.judge({ language: "PYTHON", source: DOUBLER, tests, checker: testlibChecker(), runAllTests: true });
      assert.equal(v.status, "WA", v.message ?? "");
      assert.equal(v.passed, 1);
      assert.deepEqual(v.results.map((r) => r.status), ["Success", "WA", "WA"]);
      assert.equal(v.results[0]!.score, undefined);
      assert.equal(v.results[1]!.score, 0.5);
      assert.equal(v.results[1]!.checkerMessage, "off by one: 5 instead of 4");
      assert.equal(v.results[2]!.checkerMessage, undefined, "a hidden test never shows the checker's words");
      assert.equal(v.results[2]!.score, undefined);

      const [binary = ""] = await readdir(cacheDir);
      assert.ok(binary.endsWith(".bin"), "the built checker is cached on disk");
      // The inode, not the mtime: the cache touches a binary on every use (its LRU order).
      const builtAs = (await stat(join(cacheDir, binary))).ino;
      const again = await judge.judge({ language: "PYTHON", source: "print(2 * int(input()))", tests, checker: testlibChecker() });
      assert.equal(again.status, "Success");
      assert.deepEqual(await readdir(cacheDir), [binary], "the same checker is not built again");
      assert.equal((await stat(join(cacheDir, binary))).ino, builtAs, "the same file: not rebuilt");
    });

    it("a checker failure (testlib exit 3) is IE with the reason, never the submitter's verdict", async () => {
      const v = await judge.judge({ language: "PYTHON", source: "print(1)", tests: [{ input: "-1\n", output: "0\n" }], checker: testlibChecker() });
      assert.equal(v.status, "IE");
      assert.match(v.message ?? "", /checker failed on test 1 \(the checker reported its own failure \(exit 3\)\)/);
      assert.equal(v.failedTest, null);
    });

    it("a checker that does not compile fails closed: IE, no test judged by another checker", async () => {
      const v = await judge.judge({ language: "PYTHON", source: "print(2)", tests: [{ input: "1\n", output: "2\n" }], checker: testlibChecker("int main( {") });
      assert.equal(v.status, "IE");
      assert.match(v.message ?? "", /custom checker does not compile/);
      assert.deepEqual(v.results, []);
      const missing = await judge.judge({ language: "PYTHON", source: "print(2)", tests: [{ input: "1\n", output: "2\n" }], checker: { type: "custom", language: "C" } });
      assert.equal(missing.status, "IE", "a custom checker without its source is never judged as exact");
      assert.match(missing.message ?? "", /without its language or source/);
    });

    it("Kattis validator in Python on tests from files: 42 accepts, 43 rejects with judgemessage.txt, anything else is IE", async () => {
      const files = [];
      for (const [index, [input, answer]] of [["abc", "abc"], ["xyz", "zyx"]].entries()) {
        const inputFile = join(dataDir, `${index}.in`);
        const outputFile = join(dataDir, `${index}.ans`);
        await writeFile(inputFile, `${input}\n`);
        await writeFile(outputFile, `${answer}\n`);
        files.push({ inputFile, outputFile });
      }
      const v = await judge.judge({ language: "PYTHON", source: "print(input())", tests: files, checker: kattisValidator, runAllTests: true });
      assert.equal(v.status, "WA");
      assert.deepEqual(v.results.map((r) => r.status), ["Success", "WA"]);
      assert.equal(v.results[1]!.checkerMessage, "wanted zyx, got xyz");
      assert.equal(v.failedTest?.expected, "zyx\n");

      const crashed = await judge.judge({ language: "PYTHON", source: "print(input())", tests: [{ input: "boom\n", output: "boom\n" }], checker: kattisValidator });
      assert.equal(crashed.status, "IE");
      assert.match(crashed.message ?? "", /validator exited with 5 \(42 accepts, 43 rejects\)/);
    });

    it("built-in checkers per problem: float within epsilon, tokens folded by case only when asked", async () => {
      const third = [{ input: "", output: "0.333333333\n" }];
      const printThird = "print('%.7f' % (1 / 3))";
      assert.equal((await judge.judge({ language: "PYTHON", source: printThird, tests: third, checker: { type: "float", epsilon: 1e-6 } })).status, "Success");
      assert.equal((await judge.judge({ language: "PYTHON", source: printThird, tests: third, checker: { type: "float", epsilon: 1e-9 } })).status, "WA");
      assert.equal((await judge.judge({ language: "PYTHON", source: printThird, tests: third, checker: { type: "tokens" } })).status, "WA");
      const yes = [{ input: "", output: "yes\n" }];
      assert.equal((await judge.judge({ language: "PYTHON", source: "print('YES')", tests: yes, checker: { type: "tokens", caseSensitive: false } })).status, "Success");
      assert.equal((await judge.judge({ language: "PYTHON", source: "print('YES')", tests: yes, checker: { type: "tokens" } })).status, "WA");
    });
  });
}
