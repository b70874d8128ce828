// Interactive problems, the judge's side: the interactor is built once per content and
// cached exactly like a custom checker (custom-checker.ts), and each test is one paired run
// in the submission's own session (sandbox.ts PairedRunSpec): the program and the
// interactor side by side, streams crossed, the interactor out of the program's reach in a
// cgroup of its own (bwrap: another uid, engines/bwrap/paired-run.ts; Docker: another
// container, engines/docker/exec-pair.ts). The engine reports both sides' facts;
// interactive-protocol.ts decides.
import { open } from "node:fs/promises";
import { interactorAsChecker, type Interactor, type JudgeTest, type TestResult, type TestStatus } from "@sonocode/contracts";
import type { Logger } from "pino";
import type { CustomCheckerHost } from "../custom-checker/custom-checker.js";
import type { LanguageSpec } from "../languages.js";
import type { LimitHit, RunLimits, RunOutcome, SandboxSession } from "../sandbox/sandbox.js";
import { decideInteractive, interactorArgv, interactorLimits } from "./interactive-protocol.js";

/** One test of an interactive problem: the program's facts and the status decided, or the interactor's failure. */
export type InteractiveRun =
  | { kind: "ran"; outcome: RunOutcome; hit: LimitHit; status: TestStatus; extra: Pick<TestResult, "score" | "checkerMessage"> }
  | { kind: "internalError"; message: string };

export interface InteractiveRunner {
  run(test: JudgeTest, index: number, program: { argv: string[]; limits: RunLimits; env: Record<string, string> | undefined }): Promise<InteractiveRun>;
}

/** What the submitter reads: which test, and that it is not their fault; the details are in the judge's log. */
export function interactorFailure(reason: string, index?: number): { kind: "internalError"; message: string } {
  const where = index === undefined ? "" : ` on test ${index + 1}`;
  return { kind: "internalError", message: `internal error: the problem's interactor failed${where} (${reason}); an administrator has to fix the problem, your code is not at fault` };
}

async function bytesOf(source: string | { path: string }): Promise<Buffer> {
  if (typeof source === "string") return Buffer.from(source, "utf8");
  const handle = await open(source.path, "r");
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * Builds (or finds in the cache) the problem's interactor, after the submission's compile.
 * A session without paired runs (both engines have them; a test double may not) cannot judge
 * an interactive problem: that is IE with the reason, never a retry that would fail again,
 * never another verdict.
 */
export async function openInteractiveRunner(
  session: SandboxSession,
  interactor: Interactor,
  host: CustomCheckerHost | undefined,
  language: Pick<LanguageSpec, "outOfMemory">,
  logger?: Logger,
): Promise<InteractiveRunner | { kind: "internalError"; message: string }> {
  if (!session.runPair) return interactorFailure("this judge's sandbox engine cannot run interactive problems");
  if (!host) return interactorFailure("this judge runs no interactors");
  const built = await host.program(interactorAsChecker(interactor), { cpusOf: session });
  if ("failure" in built) return interactorFailure(built.failure.replace(/custom checker/g, "interactor"));
  const protocol = interactor.protocol ?? "testlib";
  const runPair = session.runPair.bind(session);
  const files = built.files.map((file) => ({ name: file.name, bytes: file.content.length, executable: file.executable }));
  const fileBytes = built.files.map((file) => file.content);
  const argv = built.argv("/tmp");
  return {
    async run(test, index, program) {
      // fd 3 of the interactor: the input, the answer, its files (interactive tests are small: read whole).
      const [input, answer] = await Promise.all([bytesOf("inputFile" in test ? { path: test.inputFile } : test.input), bytesOf("outputFile" in test ? { path: test.outputFile } : test.output)]);
      const helperLimits = interactorLimits(program.limits.wallTimeMs);
      const pair = await runPair({
        program: { argv: program.argv, limits: program.limits, ...(program.env ? { env: program.env } : {}), writableWorkDir: false },
        helper: {
          argv: interactorArgv(protocol, input.length, answer.length, files, argv),
          input: Buffer.concat([input, answer, ...fileBytes]),
          limits: helperLimits,
          ...(built.env ? { env: built.env } : {}),
          writableWorkDir: false,
        },
      });
      const decided = decideInteractive(protocol, pair.program, program.limits, pair.helper, helperLimits, language);
      if (decided.kind === "failure") {
        logger?.error({ interactor: built.key, protocol, reason: decided.reason, exitCode: pair.helper.exitCode, signal: pair.helper.signal }, "interactor failed: its problem needs an admin");
        return interactorFailure(decided.reason, index);
      }
      const extra = { ...decided.extra };
      // The interactor's words may quote the test: only a visible test shows them.
      if (test.hidden) delete extra.checkerMessage;
      return { kind: "ran", outcome: pair.program, hit: decided.hit, status: decided.status, extra };
    },
  };
}
