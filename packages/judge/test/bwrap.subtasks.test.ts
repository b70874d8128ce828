// Subtask scoring judged for real on the bwrap engine (needs root, bwrap and the runtime rootfs):
// dependencies that skip groups, independent groups that still run after a failure, and partial
// credit from a testlib-protocol checker in C taking a group's points down to points × its lowest score.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Checker, TestGroup } from "@sonocode/contracts";
import { createBwrapEngine, createJudgeWithEngine, DEFAULT_ROOTFS, type Judge } from "../src/index.js";

const rootfs = process.env.SONOCODE_TEST_ROOTFS || DEFAULT_ROOTFS;

// Doubles n, except: 3 -> 7 (off by one), 4 -> 9 (wrong), 5 -> exit code 3 (a runtime error).
const DOUBLER = "import sys\nn = int(input())\nif n == 5:\n    sys.exit(3)\nprint({3: 7, 4: 9}.get(n, 2 * n))\n";

// testlib protocol: accepted, partial credit 0.5 when off by one (exit 7, score first on stdout), else WA.
const OFF_BY_ONE_C = `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  FILE *out = fopen(argv[2], "r"), *ans = fopen(argv[3], "r");
  long got, want;
  if (!out || !ans || fscanf(ans, "%ld", &want) != 1) return 3;
  if (fscanf(out, "%ld", &got) != 1) return 2;
  if (got == want) return 0;
  if (labs(got - want) == 1) { printf("0.5\\n"); return 7; }
  return 1;
}
`;
const offByOne: Checker = { type: "custom", protocol: "testlib", language: "C", source: OFF_BY_ONE_C };

const test = (n: number, group?: string, hidden = true) => ({ input: `${n}\n`, output: `${2 * n}\n`, hidden, ...(group ? { group } : {}) });

describe("subtask scoring (bwrap)", () => {
  let judge: Judge;
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "sonocode-subtasks-test-"));
    const engine = createBwrapEngine({ rootfs });
    await engine.check();
    judge = createJudgeWithEngine(engine, { maxConcurrency: 1, checkerThreads: 1, checkerCacheDir: cacheDir });
  });
  after(async () => {
    await judge?.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("dependencies: a failed group skips its dependents, independent groups still run, the lowest failing index names the status", async () => {
    const groups: TestGroup[] = [
      { name: "a", points: 10 },
      { name: "b", points: 20, dependencies: ["a"] },
      { name: "c", points: 30, dependencies: ["b"] },
      { name: "d", points: 40 },
    ];
    // Listed out of group order: the judge runs a, b, c, d (after the ungrouped sample).
    const tests = [test(1, undefined, false), test(4, "d"), test(2, "a"), test(5, "b"), test(2, "b"), test(2, "c"), test(1, "d")];
    const v = await judge.judge({ language: "PYTHON", source: DOUBLER, tests, groups });
    assert.equal(v.status, "WA", "test 2 (index 1, group d) is the lowest failing index, though b's RE ran first");
    assert.equal(v.message, "Wrong answer on test 2");
    // Ran sample, a, b (index 4, the rest of b, not once b scored 0), no c (b failed), then d after b's failure
    // (its index 6 not once index 1 scored 0: without runAllTests a group at 0 stops).
    assert.deepEqual(v.results.map((r) => [r.index, r.status]), [[0, "Success"], [1, "WA"], [2, "Success"], [3, "RE"]]);
    assert.equal(v.passed, 2);
    assert.equal(v.total, 7);
    assert.equal(v.score, 10);
    assert.deepEqual(v.groups, [
      { name: "a", points: 10, earned: 10, status: "Success" },
      { name: "b", points: 20, earned: 0, status: "RE" },
      { name: "c", points: 30, earned: 0, status: "Skipped" },
      { name: "d", points: 40, earned: 0, status: "WA" },
    ]);

    const all = await judge.judge({ language: "PYTHON", source: DOUBLER, tests: [test(1, "a"), test(2, "b"), test(3, "b", false)], groups: groups.slice(0, 2) });
    assert.equal(all.status, "WA");
    assert.equal(all.score, 10);

    const solved = await judge.judge({ language: "PYTHON", source: DOUBLER, tests: [test(1, "a"), test(2, "b"), test(6, "c"), test(7, "d")], groups });
    assert.equal(solved.status, "Success");
    assert.equal(solved.score, 100);
    assert.deepEqual(solved.groups?.map((g) => g.status), ["Success", "Success", "Success", "Success"]);
  });

  it("partial credit from a custom checker: points × the lowest score; the group does not unlock its dependents", async () => {
    const groups: TestGroup[] = [
      { name: "p", points: 50 },
      { name: "q", points: 50, dependencies: ["p"] },
    ];
    const v = await judge.judge({ language: "PYTHON", source: DOUBLER, tests: [test(1, "p"), test(3, "p"), test(2, "q")], groups, checker: offByOne });
    assert.equal(v.status, "WA", v.message ?? "");
    assert.deepEqual(v.results.map((r) => [r.index, r.status, r.score]), [[0, "Success", undefined], [1, "WA", 0.5]]);
    assert.equal(v.score, 25);
    assert.deepEqual(v.groups, [
      { name: "p", points: 50, earned: 25, status: "WA" },
      { name: "q", points: 50, earned: 0, status: "Skipped" },
    ]);
  });

  it("without groups: score is 100 × passed / total; a CE scores 0; inconsistent groups are an IE before any run", async () => {
    const tests = [test(1), test(2), test(4), test(6)];
    const v = await judge.judge({ language: "PYTHON", source: DOUBLER, tests, runAllTests: true });
    assert.equal(v.score, 75);
    assert.equal(v.groups, undefined);

    const ce = await judge.judge({ language: "C", source: "int main( {", tests: [test(1, "a")], groups: [{ name: "a", points: 5 }] });
    assert.equal(ce.status, "CE");
    assert.equal(ce.score, 0);
    assert.deepEqual(ce.groups, [{ name: "a", points: 5, earned: 0, status: "CE" }]);

    const ie = await judge.judge({ language: "PYTHON", source: DOUBLER, tests: [test(1, "zzz")], groups: [{ name: "a", points: 5 }] });
    assert.equal(ie.status, "IE");
    assert.match(ie.message ?? "", /subtasks are inconsistent/);
    assert.equal(ie.score, undefined);
  });
});
