// One submission inside one sandbox session: compile once, run every test against the
// artefact, check outputs in the worker pool, and build the verdict from facts
// (verdict.ts). Every text in the verdict crosses the storable-text rule.
import { open } from "node:fs/promises";
import { JUDGE_DEFAULTS, storableText, type CheckerFailure, type FailedTest, type JudgeTest, type ParsedJudgeRequest, type TestResult, type TestStatus, type Verdict } from "@sonocode/contracts";
import type { CheckPool } from "./check/check-pool.js";
import type { CustomCheckerHost } from "./custom-checker/custom-checker.js";
import { openOutputChecker } from "./custom-checker/output-checker.js";
import { openInteractiveRunner } from "./interactive/interactive-runner.js";
import { compileSource } from "./compile.js";
import { languageSpec, type LanguageSpec } from "./languages.js";
import type { RunLimits, RunOutcome, RunStdin, SandboxSession } from "./sandbox/sandbox.js";
import { classifyRun, failureMessage, runStatus, testResult } from "./verdict.js";
import { planTests } from "./scoring.js";

export interface SessionCall {
  onProgress?: (progress: { passed: number; total: number }) => void | Promise<void>;
  signal?: AbortSignal;
  /** Filled in with compileMs and testsMs (see JudgeTimings in judge.ts). */
  timings?: { compileMs?: number; testsMs?: number };
}

/** Display cap of each failedTest field: enough to see the difference, never megabytes. */
export const FAILED_TEST_DISPLAY_CHARS = 4 * 1024;
/** A program that sleeps or blocks is stopped at this multiple of its CPU limit (plus a grace second). */
export const WALL_TIME_FACTOR = 2;
const WALL_TIME_GRACE_MS = 1_000;
/** Bytes that always hold FAILED_TEST_DISPLAY_CHARS code points (4 bytes each at most) and a cut sequence. */
const DISPLAY_HEAD_BYTES = FAILED_TEST_DISPLAY_CHARS * 4 + 4;

function display(text: string | Uint8Array): string {
  return storableText(text, { maxCodePoints: FAILED_TEST_DISPLAY_CHARS });
}

/** The first bytes of a host file, enough for display: a test file is never read whole here. */
async function fileHead(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(DISPLAY_HEAD_BYTES + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function stdinOf(test: JudgeTest): RunStdin {
  return "inputFile" in test ? { path: test.inputFile } : test.input;
}

async function shownTest(test: JudgeTest, index: number, actualHead: Buffer): Promise<FailedTest> {
  if ("inputFile" in test) {
    const [input, expected] = await Promise.all([fileHead(test.inputFile), fileHead(test.outputFile)]);
    return { index, input: display(input), expected: display(expected), actual: display(actualHead) };
  }
  return { index, input: display(test.input), expected: display(test.output), actual: display(actualHead) };
}

function compileError(total: number, compileOutput: string, message: string): Verdict {
  return { status: "CE", passed: 0, total, timeMs: null, memoryKb: null, results: [], compileOutput, failedTest: null, message };
}

/** The limits each test of a program runs with: the problem's, scaled for the language, wall derived from CPU. */
export function programLimits(spec: LanguageSpec, timeLimitMs: number, memoryLimitMb: number): RunLimits {
  const cpuTimeMs = Math.round(timeLimitMs * (spec.timeMultiplier ?? 1));
  return {
    cpuTimeMs,
    wallTimeMs: cpuTimeMs * WALL_TIME_FACTOR + WALL_TIME_GRACE_MS,
    memoryBytes: memoryLimitMb * 1024 * 1024,
    outputBytes: JUDGE_DEFAULTS.outputLimitBytes,
    processes: JUDGE_DEFAULTS.maxProcesses,
    fileSizeBytes: JUDGE_DEFAULTS.outputLimitBytes,
  };
}

/** The checker could not judge (it does not build, it failed on a test): never the submitter's fault. */
function checkerInternalError(total: number, passed: number, results: TestResult[], compileOutput: string | null, message: string, checkerFailure?: CheckerFailure): Verdict {
  // checkerFailure: why, for the evaluator's admin log and metrics (never stored).
  return { status: "IE", passed, total, timeMs: null, memoryKb: null, results, compileOutput, failedTest: null, message, ...(checkerFailure ? { checkerFailure } : {}) };
}


export async function judgeInSession(
  session: SandboxSession,
  request: ParsedJudgeRequest,
  pool: CheckPool,
  call: SessionCall,
  customCheckers?: CustomCheckerHost,
): Promise<Verdict> {
  const spec = languageSpec(request.language);
  const total = request.tests.length;
  const env = spec.env ? { ...spec.env } : undefined;
  const compileStarted = performance.now();
  const compiled = await compileSource(session, spec, request.source, env, call.signal);
  const testsStarted = performance.now();
  if (call.timings) call.timings.compileMs = testsStarted - compileStarted;
  if (!compiled.ok) return compileError(total, compiled.compileOutput, compiled.message);
  const compileOutput = compiled.compileOutput;

  const limits = programLimits(spec, request.timeLimitMs, request.memoryLimitMb);
  const argv = [...spec.run({ memoryLimitMb: request.memoryLimitMb })];
  // After the compile (a CE is the submitter's news first), before any test: a checker that cannot judge stops here.
  const outputs = await openOutputChecker(request.checker, pool, customCheckers, session);
  if ("kind" in outputs) return checkerInternalError(total, 0, [], compileOutput, outputs.message, outputs.failure);
  // An interactive problem: each test is a paired run with the interactor, which decides (interactive/).
  const interactive = request.interactor ? await openInteractiveRunner(session, request.interactor, customCheckers, spec) : null;
  if (interactive && "kind" in interactive) {
    await outputs.dispose();
    return checkerInternalError(total, 0, [], compileOutput, interactive.message, { reason: "interactor" });
  }
  try {
    const results: TestResult[] = [];
    let passed = 0;
    let firstFailure: { status: TestStatus; index: number; outcome: RunOutcome; actualHead: Buffer } | null = null;
    // Subtasks change the order and which tests run (scoring.ts); without groups: in order, as before.
    const plan = planTests(request.tests, request.groups, request.runAllTests);

    for (const index of plan.order) {
      const test = request.tests[index]!;
      if (!plan.admits(index)) continue;
      call.signal?.throwIfAborted();
      // Tests run with /box read-only: one test cannot tamper with the artefact the next one runs.
      const paired = interactive ? await interactive.run(test, index, { argv, limits, env }) : null;
      if (paired?.kind === "internalError") {
        // An abort kills the interactor too: that is not its failure.
        call.signal?.throwIfAborted();
        return checkerInternalError(total, passed, results, compileOutput, paired.message, { reason: "interactor", test: index });
      }
      const outcome = paired ? paired.outcome : await session.run({ argv, stdin: stdinOf(test), limits, env, writableWorkDir: false });
      // An abort kills the running program; that death is not the program's verdict.
      call.signal?.throwIfAborted();
      const hit = paired ? paired.hit : classifyRun(outcome, limits);
      // Kept before the output's memory moves to a checker worker: what a failed visible test shows.
      const actualHead = Buffer.from(outcome.stdout.subarray(0, DISPLAY_HEAD_BYTES + 1));
      let status = paired ? paired.status : runStatus(outcome, hit, spec);
      let extra = paired ? paired.extra : {};
      if (status === null) {
        const checked = await outputs.check(test, index, outcome.stdout);
        call.signal?.throwIfAborted();
        if (checked.kind === "internalError") return checkerInternalError(total, passed, results, compileOutput, checked.message, checked.failure);
        ({ status, extra } = checked);
      }
      const result: TestResult = { ...testResult(index, status, outcome, hit, test.hidden), ...extra };
      results.push(result);
      plan.record(result);
      if (status === "Success") passed++;
      // The lowest failing index, whatever order the groups ran in.
      else if (!firstFailure || index < firstFailure.index) firstFailure = { status, index, outcome, actualHead };
      try {
        await call.onProgress?.({ passed, total });
      } catch {
        // Progress is a notification: a failing listener must not change the verdict.
      }
      if (plan.stopsAfter(result)) break;
    }
    results.sort((a, b) => a.index - b.index);
    if (call.timings) call.timings.testsMs = performance.now() - testsStarted;

    let failedTest: FailedTest | null = null;
    let message: string | null = null;
    if (firstFailure) {
      const test = request.tests[firstFailure.index]!;
      if (!test.hidden) failedTest = await shownTest(test, firstFailure.index, firstFailure.actualHead);
      message = failureMessage(firstFailure.status, firstFailure.index, firstFailure.outcome, test.hidden);
    }
    return {
      status: firstFailure?.status ?? "Success",
      passed,
      total,
      timeMs: Math.max(0, ...results.map((r) => r.timeMs)),
      memoryKb: Math.max(0, ...results.map((r) => r.memoryKb)),
      results,
      compileOutput,
      failedTest,
      message,
    };
  } finally {
    await outputs.dispose();
  }
}
