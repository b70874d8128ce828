import { TEST_SET_CHANGED, type Checker, type JudgingProblem, type Problem, type TestSet } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import type { ProblemRepository } from "@sonocode/store";

function notFound(id: string): AppError {
  return AppError.notFound("PROBLEM_NOT_FOUND", `problem ${id} not found`);
}

/** A custom checker's code (maybe with a 250 KiB testlib.h) travels with the test set, never in a job. */
function jobChecker(checker: Checker): Checker {
  const { source: _source, files: _files, ...rest } = checker;
  return rest;
}

/** The judging view: everything a job is built from except the tests (and a custom checker's code), which travel by reference. */
export function toJudgingProblem(problem: Problem): JudgingProblem {
  return {
    _id: problem._id,
    codeStubs: problem.codeStubs,
    ...(problem.timeLimitMs === undefined ? {} : { timeLimitMs: problem.timeLimitMs }),
    ...(problem.memoryLimitMb === undefined ? {} : { memoryLimitMb: problem.memoryLimitMb }),
    ...(problem.checker === undefined ? {} : { checker: jobChecker(problem.checker) }),
    ...(problem.runAllTests === undefined ? {} : { runAllTests: problem.runAllTests }),
    ...(problem.languageLimits === undefined ? {} : { languageLimits: problem.languageLimits }),
    testSet: problem.testSet,
    updatedAt: problem.updatedAt,
  };
}

/** Use cases of the internal (service-token) routes: the judging view and content-addressed test sets. */
export class TestSetsService {
  constructor(private readonly problems: ProblemRepository) {}

  async judgingProblem(id: string): Promise<JudgingProblem> {
    const problem = await this.problems.findById(id);
    if (!problem) throw notFound(id);
    return toJudgingProblem(problem);
  }

  /**
   * The tests whose hash is `hash`. Only the current version is kept, so a hash
   * the problem no longer has (edited since the job was made) is a 409 naming
   * the current hash: the caller decides what to judge against.
   */
  async testSet(id: string, hash: string): Promise<TestSet> {
    const problem = await this.problems.findById(id);
    if (!problem) throw notFound(id);
    if (problem.testSet.hash !== hash) {
      throw new AppError("CONFLICT", `problem ${id} no longer has test set ${hash}`, {
        details: { reason: TEST_SET_CHANGED, currentHash: problem.testSet.hash, count: problem.testSet.count },
      });
    }
    return {
      problemId: problem._id,
      hash,
      tests: problem.testCases,
      ...(problem.checker === undefined ? {} : { checker: problem.checker }),
      ...(problem.groups === undefined ? {} : { groups: problem.groups }),
      ...(problem.interactor === undefined ? {} : { interactor: problem.interactor }),
    };
  }
}
