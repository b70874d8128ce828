// Subtask scoring, pure: which tests run in which order (TestPlan, driven by judge-session.ts)
// and what a finished verdict is worth (scoreVerdict, applied by judge.ts). Both read the same
// rule, so a group the plan skipped is exactly a group the score calls Skipped:
// - a group passes when every one of its tests is accepted, and only if every group it depends on passed;
// - it earns points × the lowest test score in it (accepted 1, rejected 0, a checker's partial credit between);
// - a group whose dependencies did not pass earns 0 and its tests are not run.
import { groupIssues, roundScore, type GroupResult, type TestGroup, type TestResult, type Verdict } from "@sonocode/contracts";

type GroupedTest = { readonly group?: string | undefined };
type ScoredResult = Pick<TestResult, "index" | "status" | "score">;

/** A test's worth in [0, 1]: a checker's partial credit when it gave one, else 1 accepted / 0 rejected. */
export function testScore(result: Pick<TestResult, "status" | "score">): number {
  return result.score ?? (result.status === "Success" ? 1 : 0);
}

/** Why a request's groups cannot be scored (the problem-service refuses such problems; a hand-built request may not), or null. */
export function groupingIssue(tests: readonly GroupedTest[], groups: readonly TestGroup[] | undefined): string | null {
  if (!groups || groups.length === 0) {
    return tests.some((test) => test.group !== undefined) ? "tests name groups but the request declares none" : null;
  }
  const issue = groupIssues({ testCases: tests, groups })[0];
  return issue ? `${issue.path.join(".")}: ${issue.message}` : null;
}

/** The IE verdict of a request whose groups cannot be scored: nothing is run, the problem is at fault. */
export function unscorableVerdict(total: number, issue: string): Verdict {
  const message = `internal error: the problem's subtasks are inconsistent (${issue}); your code was not judged`;
  return { status: "IE", passed: 0, total, timeMs: null, memoryKb: null, results: [], compileOutput: null, failedTest: null, message };
}

/** The order tests run in and which of them run; judge-session.ts asks it before and tells it after each test. */
export interface TestPlan {
  /** Test indices in running order. */
  readonly order: readonly number[];
  /** False for a test that is not run: its group's dependencies did not pass, or (without runAllTests) its group already scored 0. */
  admits(index: number): boolean;
  record(result: ScoredResult): void;
  /** True when judging stops after this result (without groups: the first failure, unless runAllTests). */
  stopsAfter(result: ScoredResult): boolean;
}

/**
 * Without groups: every test in order, stopping at the first failure unless runAllTests
 * (unchanged from before groups were scored). With groups: ungrouped tests (samples, as a
 * rule) first, then each group's tests in declaration order, so a group's dependencies are
 * settled before its first test; a failure never stops the other groups (the score would mean
 * nothing), and a group that has scored 0 stops running its own tests unless runAllTests (its
 * remaining tests cannot change its points). Groups must be consistent (groupingIssue null).
 */
export function planTests(tests: readonly GroupedTest[], groups: readonly TestGroup[] | undefined, runAllTests: boolean): TestPlan {
  const indices = tests.map((_test, index) => index);
  if (!groups || groups.length === 0) {
    return {
      order: indices,
      admits: () => true,
      record: () => {},
      stopsAfter: (result) => result.status !== "Success" && !runAllTests,
    };
  }
  const declared = new Map(groups.map((group, rank) => [group.name, { group, rank }]));
  const rank = (index: number) => {
    const name = tests[index]!.group;
    return name === undefined ? -1 : (declared.get(name)?.rank ?? -1);
  };
  // Array.prototype.sort is stable: index order within a rank.
  const order = [...indices].sort((a, b) => rank(a) - rank(b));
  const failed = new Set<string>();
  const zero = new Set<string>();
  const blocked = new Map<string, boolean>();
  // Memoised: a group's dependencies are declared (and so settled) before it.
  const isBlocked = (name: string): boolean => {
    const known = blocked.get(name);
    if (known !== undefined) return known;
    const result = (declared.get(name)?.group.dependencies ?? []).some((dependency) => isBlocked(dependency) || failed.has(dependency));
    blocked.set(name, result);
    return result;
  };
  return {
    order,
    admits(index) {
      const name = tests[index]!.group;
      if (name === undefined) return true;
      if (isBlocked(name)) return false;
      return runAllTests || !zero.has(name);
    },
    record(result) {
      const name = tests[result.index]?.group;
      if (name === undefined) return;
      if (result.status !== "Success") failed.add(name);
      if (testScore(result) === 0) zero.add(name);
    },
    stopsAfter: () => false,
  };
}

/** The group's outcome from the results of its tests (a test without a result was not run). */
function groupResult(group: TestGroup, members: readonly number[], results: ReadonlyMap<number, ScoredResult>): GroupResult {
  let lowest = 1;
  let status: GroupResult["status"] = "Success";
  for (const index of members) {
    const result = results.get(index);
    lowest = Math.min(lowest, result ? testScore(result) : 0);
    // Members are in index order: the first failing test's verdict names the group's.
    if (status === "Success") {
      if (!result) status = "Skipped";
      else if (result.status !== "Success") status = result.status;
    }
  }
  return { name: group.name, points: group.points, earned: roundScore(group.points * lowest), status };
}

/**
 * The verdict with its `score` and, with groups, `groups` (in declaration order). An IE is
 * left unscored: nothing was judged. A CE scores 0 and every group says CE.
 */
export function scoreVerdict(verdict: Verdict, tests: readonly GroupedTest[], groups: readonly TestGroup[] | undefined): Verdict {
  if (verdict.status === "IE") return verdict;
  if (!groups || groups.length === 0) {
    return { ...verdict, score: verdict.total === 0 ? 0 : roundScore((100 * verdict.passed) / verdict.total) };
  }
  if (verdict.status === "CE") {
    return { ...verdict, score: 0, groups: groups.map((group) => ({ name: group.name, points: group.points, earned: 0, status: "CE" })) };
  }
  const results = new Map(verdict.results.map((result) => [result.index, result]));
  const members = new Map(groups.map((group) => [group.name, [] as number[]]));
  tests.forEach((test, index) => {
    if (test.group !== undefined) members.get(test.group)?.push(index);
  });
  const passed = new Set<string>();
  const scored = groups.map((group): GroupResult => {
    if (!(group.dependencies ?? []).every((dependency) => passed.has(dependency))) {
      return { name: group.name, points: group.points, earned: 0, status: "Skipped" };
    }
    const outcome = groupResult(group, members.get(group.name) ?? [], results);
    if (outcome.status === "Success") passed.add(group.name);
    return outcome;
  });
  return { ...verdict, score: roundScore(scored.reduce((sum, group) => sum + group.earned, 0)), groups: scored };
}
