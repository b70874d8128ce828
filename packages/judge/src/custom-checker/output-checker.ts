// The one seam judge-session.ts checks outputs through: the built-in checkers in the worker
// pool, or the problem's custom checker in a sandbox session of its own. A checker that
// cannot be honoured ends the submission as IE with the reason; it is never swapped for another.
import { type Checker, type CheckerFailure, type CheckerFailureReason, type JudgeTest, type TestResult } from "@sonocode/contracts";
import type { CheckPool, ExpectedSource } from "../check/check-pool.js";
import type { SandboxSession } from "../sandbox/sandbox.js";
import type { CustomCheckerHost } from "./custom-checker.js";

/** The outcome of checking one output that ran cleanly: a test status (with custom-checker extras), or IE. */
export type OutputCheck =
  | { kind: "checked"; status: "Success" | "WA"; extra: Pick<TestResult, "score" | "checkerMessage"> }
  | { kind: "internalError"; message: string; failure: CheckerFailure };

export interface OutputChecker {
  check(test: JudgeTest, index: number, output: Buffer): Promise<OutputCheck>;
  dispose(): Promise<void>;
}

/** What the submitter reads: which test, and that it is not their fault; the details are in the judge's log. */
function internalError(reason: string, code: CheckerFailureReason, index?: number): { kind: "internalError"; message: string; failure: CheckerFailure } {
  const where = index === undefined ? "" : ` on test ${index + 1}`;
  return {
    kind: "internalError",
    message: `internal error: the problem's checker failed${where} (${reason}); an administrator has to fix the problem, your code is not at fault`,
    // For the evaluator's admin log and metrics only (never stored).
    failure: index === undefined ? { reason: code } : { reason: code, test: index },
  };
}

function expectedOf(test: JudgeTest): ExpectedSource {
  return "outputFile" in test ? { path: test.outputFile } : { text: test.output };
}

/** The built-in checkers refuse nothing at run time; what they could not honour is refused here. */
function builtInUnsupported(checker: Checker): string | null {
  if (checker.type === "exact" && checker.caseSensitive === false) return "a case-insensitive exact checker is not supported";
  return null;
}

/** Opens the checking of one submission (after its compile, before its first test); a custom checker runs on the CPU of `session`, the submission's. */
export async function openOutputChecker(checker: Checker, pool: CheckPool, custom: CustomCheckerHost | undefined, session?: SandboxSession): Promise<OutputChecker | { kind: "internalError"; message: string; failure: CheckerFailure }> {
  if (checker.type !== "custom") {
    const unsupported = builtInUnsupported(checker);
    if (unsupported) return internalError(unsupported, "unsupported");
    return {
      async check(test, _index, output) {
        return { kind: "checked", status: (await pool.check(checker, expectedOf(test), output)) ? "Success" : "WA", extra: {} };
      },
      async dispose() {},
    };
  }
  if (!custom) return internalError("this judge runs no custom checkers", "unavailable");
  const opened = await custom.open(checker, session ? { cpusOf: session } : {});
  if ("failure" in opened) return internalError(opened.failure, opened.code);
  return {
    async check(test, index, output) {
      const decision = await opened.check(test, output);
      if (decision.kind === "failure") return internalError(decision.reason, decision.code, index);
      const extra: Pick<TestResult, "score" | "checkerMessage"> = {};
      if (decision.score !== null) extra.score = decision.score;
      // The checker's words may quote the answer: only a visible test shows them.
      if (decision.message !== null && !test.hidden) extra.checkerMessage = decision.message;
      return { kind: "checked", status: decision.status, extra };
    },
    dispose: () => opened.dispose(),
  };
}
