// Subtask scoring, pure (scoring.ts): the running plan and the score of a verdict.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TestGroup, TestResult, TestStatus, Verdict } from "@sonocode/contracts";
import { groupingIssue, planTests, scoreVerdict, testScore, type TestPlan } from "../src/scoring.js";

const GROUPS: TestGroup[] = [
  { name: "small", points: 20 },
  { name: "medium", points: 30, dependencies: ["small"] },
  { name: "large", points: 50, dependencies: ["medium"] },
  { name: "other", points: 10 },
];
// Interleaved on purpose: the plan runs them group by group.
const TESTS = [{}, { group: "large" }, { group: "small" }, { group: "medium" }, { group: "small" }, { group: "other" }, { group: "large" }];

/** Drives a plan like judge-session.ts does, with a status (and score) per test index. */
function drive(plan: TestPlan, outcomes: Record<number, TestStatus | [TestStatus, number]>): TestResult[] {
  const results: TestResult[] = [];
  for (const index of plan.order) {
    if (!plan.admits(index)) continue;
    const outcome = outcomes[index] ?? "Success";
    const [status, score] = Array.isArray(outcome) ? outcome : [outcome, undefined];
    const result: TestResult = { index, status, timeMs: 1, memoryKb: 1, ...(score === undefined ? {} : { score }) };
    results.push(result);
    plan.record(result);
    if (plan.stopsAfter(result)) break;
  }
  return results.sort((a, b) => a.index - b.index);
}

function verdictOf(results: TestResult[], total: number, status?: Verdict["status"]): Verdict {
  const passed = results.filter((r) => r.status === "Success").length;
  const failing = results.find((r) => r.status !== "Success");
  return { status: status ?? failing?.status ?? "Success", passed, total, timeMs: 1, memoryKb: 1, results, compileOutput: null, failedTest: null, message: null };
}

describe("subtask scoring: plan", () => {
  it("without groups: every test in order, stopping at the first failure unless runAllTests", () => {
    const tests = [{}, {}, {}];
    assert.deepEqual(drive(planTests(tests, undefined, false), { 1: "WA" }).map((r) => r.index), [0, 1]);
    assert.deepEqual(drive(planTests(tests, undefined, true), { 1: "WA" }).map((r) => r.index), [0, 1, 2]);
    assert.deepEqual(planTests(tests, [], false).order, [0, 1, 2]);
  });

  it("with groups: ungrouped first, then groups in declaration order, index order within each", () => {
    assert.deepEqual(planTests(TESTS, GROUPS, false).order, [0, 2, 4, 3, 1, 6, 5]);
  });

  it("a failed group skips its dependents (transitively) but never the independent groups", () => {
    const results = drive(planTests(TESTS, GROUPS, false), { 0: "WA", 2: "TLE" });
    // 4 (rest of small) is skipped once small scored 0; medium and large depend on small; other still runs.
    assert.deepEqual(results.map((r) => r.index), [0, 2, 5]);
  });

  it("runAllTests runs the rest of a failed group, never the tests of groups whose dependencies failed", () => {
    const results = drive(planTests(TESTS, GROUPS, true), { 2: "WA" });
    assert.deepEqual(results.map((r) => r.index), [0, 2, 4, 5]);
  });

  it("partial credit keeps its group running (a later test may score lower), and still blocks dependents", () => {
    const results = drive(planTests(TESTS, GROUPS, false), { 2: ["WA", 0.5] });
    assert.deepEqual(results.map((r) => r.index), [0, 2, 4, 5]);
  });
});

describe("subtask scoring: score", () => {
  it("all passed: every group's points, status Success", () => {
    const v = scoreVerdict(verdictOf(drive(planTests(TESTS, GROUPS, false), {}), TESTS.length), TESTS, GROUPS);
    assert.equal(v.score, 110);
    assert.deepEqual(v.groups, [
      { name: "small", points: 20, earned: 20, status: "Success" },
      { name: "medium", points: 30, earned: 30, status: "Success" },
      { name: "large", points: 50, earned: 50, status: "Success" },
      { name: "other", points: 10, earned: 10, status: "Success" },
    ]);
  });

  it("a failure in a middle group: earlier groups keep their points, dependents are Skipped, an ungrouped failure costs nothing", () => {
    const results = drive(planTests(TESTS, GROUPS, false), { 0: "RE", 3: "MLE" });
    const v = scoreVerdict(verdictOf(results, TESTS.length), TESTS, GROUPS);
    assert.equal(v.score, 30);
    assert.deepEqual(v.groups?.map((g) => [g.name, g.earned, g.status]), [
      ["small", 20, "Success"],
      ["medium", 0, "MLE"],
      ["large", 0, "Skipped"],
      ["other", 10, "Success"],
    ]);
  });

  it("partial credit: points × the lowest score in the group; the group is WA and does not unlock its dependents", () => {
    const results = drive(planTests(TESTS, GROUPS, false), { 2: ["WA", 0.75], 4: ["WA", 0.5], 5: ["WA", 1 / 3] });
    const v = scoreVerdict(verdictOf(results, TESTS.length), TESTS, GROUPS);
    assert.deepEqual(v.groups?.map((g) => [g.name, g.earned, g.status]), [
      ["small", 10, "WA"],
      ["medium", 0, "Skipped"],
      ["large", 0, "Skipped"],
      ["other", 3.33, "WA"],
    ]);
    assert.equal(v.score, 13.33);
  });

  it("the group's status is its lowest-index failing test's verdict", () => {
    const tests = [{ group: "a" }, { group: "a" }, { group: "a" }];
    const groups = [{ name: "a", points: 7 }];
    const results = drive(planTests(tests, groups, true), { 1: "TLE", 2: "WA" });
    assert.deepEqual(scoreVerdict(verdictOf(results, 3), tests, groups).groups, [{ name: "a", points: 7, earned: 0, status: "TLE" }]);
  });

  it("without groups: 100 × passed / total, rounded to two decimals", () => {
    const tests = [{}, {}, {}];
    const v = scoreVerdict(verdictOf(drive(planTests(tests, undefined, true), { 1: "WA" }), 3), tests, undefined);
    assert.equal(v.score, 66.67);
    assert.equal(v.groups, undefined);
    assert.equal(scoreVerdict(verdictOf([], 0, "WA"), [], undefined).score, 0);
  });

  it("CE scores 0 with every group CE; IE stays unscored", () => {
    const ce = scoreVerdict(verdictOf([], TESTS.length, "CE"), TESTS, GROUPS);
    assert.equal(ce.score, 0);
    assert.deepEqual(ce.groups?.map((g) => g.status), ["CE", "CE", "CE", "CE"]);
    const ie = scoreVerdict(verdictOf([], TESTS.length, "IE"), TESTS, GROUPS);
    assert.equal(ie.score, undefined);
    assert.equal(ie.groups, undefined);
  });

  it("testScore: partial credit when given, else 1 accepted / 0 rejected", () => {
    assert.equal(testScore({ status: "Success" }), 1);
    assert.equal(testScore({ status: "TLE" }), 0);
    assert.equal(testScore({ status: "WA", score: 0.25 }), 0.25);
  });

  it("groupingIssue: inconsistent groups are named, consistent ones pass", () => {
    assert.equal(groupingIssue(TESTS, GROUPS), null);
    assert.equal(groupingIssue([{}], undefined), null);
    assert.match(groupingIssue([{ group: "x" }], undefined) ?? "", /declares none/);
    assert.match(groupingIssue([{ group: "nope" }, { group: "small" }], [{ name: "small", points: 1 }]) ?? "", /not declared/);
    assert.match(groupingIssue([{ group: "b" }], [{ name: "b", points: 1, dependencies: ["b"] }]) ?? "", /declared before/);
  });
});
