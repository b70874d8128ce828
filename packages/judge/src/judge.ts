// The judge core: judge(request) -> verdict over any SandboxEngine. Compile once in
// the session, run every test against the artefact, map limits and exits to
// verdicts, and turn engine failures into IE without blaming (or leaking to) the user.
import { availableParallelism } from "node:os";
import {
  JUDGE_DEFAULTS,
  PROBLEM_LIMITS,
  judgeRequestSchema,
  storableText,
  type FailedTest,
  type JudgeRequest,
  type ParsedJudgeRequest,
  type TestResult,
  type TestStatus,
  type Verdict,
} from "@sonocode/contracts";
import type { Logger } from "pino";
import { checkOutput } from "./checkers.js";
import { SandboxError } from "./errors.js";
import { languageSpec } from "./languages.js";
import type { LimitHit, RunLimits, RunOutcome, SandboxEngine, SandboxSession } from "./sandbox/sandbox.js";
import { classifyRun, exitedCleanly, reportedMemoryKb } from "./verdict.js";

export interface JudgeProgress {
  passed: number;
  total: number;
}

export interface JudgeCallOptions {
  onProgress?: (progress: JudgeProgress) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface Judge {
  readonly engine: "bwrap" | "docker";
  /**
   * Resolves the verdict; rejects with SandboxError when the sandbox (not the program) failed,
   * so the caller retries instead of blaming the user.
   */
  judge(request: JudgeRequest, options?: JudgeCallOptions): Promise<Verdict>;
  /** One trivial sandboxed run; rejects with SandboxError when the engine does not work. */
  selfTest(): Promise<void>;
  close(): Promise<void>;
}

export interface JudgeCoreOptions {
  logger?: Logger;
  /** Submissions judged at once; more calls wait their turn. Default: the number of CPUs. */
  maxConcurrency?: number;
}

/** Display cap of each failedTest field: enough to see the difference, never megabytes. */
export const FAILED_TEST_DISPLAY_CHARS = 4 * 1024;
/** A program that sleeps or blocks is stopped at this multiple of its CPU limit (plus a grace second). */
export const WALL_TIME_FACTOR = 2;
const WALL_TIME_GRACE_MS = 1_000;

/** Every text shown to the user crosses the one storable-text rule (contracts/storable-text.ts). */
function display(text: string | Buffer, max = FAILED_TEST_DISPLAY_CHARS): string {
  return storableText(text, { maxCodePoints: max });
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function compilerText(out: RunOutcome): string {
  return storableText(Buffer.concat([out.stdout, out.stderr]), {
    maxCodePoints: JUDGE_DEFAULTS.compileOutputLimitBytes,
    truncatedNote: () => "\n… (compiler output truncated)",
  });
}

class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(private readonly size: number) {}
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.active >= this.size) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.waiters.indexOf(go);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason ?? new Error("aborted"));
        };
        const go = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        this.waiters.push(go);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiters.shift()?.();
    };
  }
}

function outcomeStatus(outcome: RunOutcome, limit: LimitHit): TestStatus | null {
  switch (limit) {
    case "memory":
      return "MLE";
    case "time":
    case "wall":
      return "TLE";
    case "output":
      return "OLE";
    default:
      break;
  }
  if (outcome.signal !== null || outcome.exitCode !== 0) return "RE";
  return null;
}

function describe(status: TestStatus, index: number, outcome: RunOutcome): string | null {
  const test = `test ${index + 1}`;
  switch (status) {
    case "Success":
      return null;
    case "WA":
      return `Wrong answer on ${test}`;
    case "TLE":
      return `Time limit exceeded on ${test}`;
    case "MLE":
      return `Memory limit exceeded on ${test}`;
    case "OLE":
      return `Output limit exceeded on ${test}`;
    case "RE":
      return outcome.signal
        ? `Runtime error on ${test}: killed by ${outcome.signal}`
        : `Runtime error on ${test}: exit code ${outcome.exitCode ?? "unknown"}`;
  }
}

async function judgeInSession(
  session: SandboxSession,
  request: ParsedJudgeRequest,
  call: JudgeCallOptions,
): Promise<Verdict> {
  const spec = languageSpec(request.language);
  const total = request.tests.length;
  const env = spec.env ? { ...spec.env } : undefined;
  await session.writeFile(spec.sourceFile, request.source);

  let compileOutput: string | null = null;
  if (spec.compile) {
    const limits: RunLimits = {
      cpuTimeMs: JUDGE_DEFAULTS.compileTimeLimitMs,
      // Compilers are I/O-heavy and slow on a loaded host: the wall bound only catches a blocked compiler.
      wallTimeMs: JUDGE_DEFAULTS.compileTimeLimitMs * 3,
      memoryBytes: JUDGE_DEFAULTS.compileMemoryLimitMb * 1024 * 1024,
      outputBytes: JUDGE_DEFAULTS.compileOutputLimitBytes,
      processes: JUDGE_DEFAULTS.maxProcesses,
      fileSizeBytes: 256 * 1024 * 1024,
    };
    const out = await session.run({ argv: [...spec.compile], stdin: "", limits, env, writableWorkDir: true });
    call.signal?.throwIfAborted();
    const text = compilerText(out);
    compileOutput = text.length > 0 ? text : null;
    const hit = classifyRun(out, limits);
    const failed = hit !== null || !exitedCleanly(out);
    if (failed) {
      const why =
        hit === "time" || hit === "wall"
          ? "Compilation exceeded the time limit"
          : hit === "memory"
            ? "Compilation exceeded the memory limit"
            : hit === "output"
              ? "Compilation produced too much output"
              : "Compilation failed";
      return { status: "CE", passed: 0, total, timeMs: null, memoryKb: null, results: [], compileOutput: compileOutput ?? why, failedTest: null, message: why };
    }
    if (spec.artefact) {
      const probe = await session.run({ argv: ["/usr/bin/test", "-f", spec.artefact.path], stdin: "", limits, env, writableWorkDir: false });
      const probeHit = classifyRun(probe, limits);
      if (probeHit !== null || probe.signal !== null) throw new Error(`artefact probe failed (${probeHit ?? probe.signal})`);
      if (probe.exitCode !== 0) {
        const why = spec.artefact.missing;
        return { status: "CE", passed: 0, total, timeMs: null, memoryKb: null, results: [], compileOutput: compileOutput ? `${compileOutput}\n${why}` : why, failedTest: null, message: why };
      }
    }
  }

  const cpuTimeMs = Math.round(request.timeLimitMs * (spec.timeMultiplier ?? 1));
  const limits: RunLimits = {
    cpuTimeMs,
    wallTimeMs: cpuTimeMs * WALL_TIME_FACTOR + WALL_TIME_GRACE_MS,
    memoryBytes: request.memoryLimitMb * 1024 * 1024,
    outputBytes: JUDGE_DEFAULTS.outputLimitBytes,
    processes: JUDGE_DEFAULTS.maxProcesses,
    fileSizeBytes: JUDGE_DEFAULTS.outputLimitBytes,
  };
  const argv = [...spec.run({ memoryLimitMb: request.memoryLimitMb })];
  const results: TestResult[] = [];
  let passed = 0;
  let firstFailure: { status: TestStatus; index: number; outcome: RunOutcome } | null = null;

  for (const [index, test] of request.tests.entries()) {
    call.signal?.throwIfAborted();
    // Tests run with /box read-only: one test cannot tamper with the artefact the next one runs.
    const outcome = await session.run({ argv, stdin: test.input, limits, env, writableWorkDir: false });
    // An abort kills the running program; that death is not the program's verdict.
    call.signal?.throwIfAborted();
    const hit = classifyRun(outcome, limits);
    const status: TestStatus = outcomeStatus(outcome, hit) ?? (checkOutput(request.checker, test.output, outcome.stdout.toString("utf8")) ? "Success" : "WA");
    const result: TestResult = {
      index,
      status,
      timeMs: Math.max(0, Math.round(outcome.cpuTimeMs)),
      wallTimeMs: Math.max(0, Math.round(outcome.wallTimeMs)),
      memoryKb: reportedMemoryKb(outcome, hit),
    };
    if (status === "RE") {
      if (outcome.signal) result.signal = outcome.signal;
      else if (outcome.exitCode !== null) result.exitCode = outcome.exitCode;
    }
    results.push(result);
    if (status === "Success") passed++;
    else firstFailure ??= { status, index, outcome };
    try {
      await call.onProgress?.({ passed, total });
    } catch {
      // Progress is a notification: a failing listener must not change the verdict.
    }
    if (status !== "Success" && !request.runAllTests) break;
  }

  let failedTest: FailedTest | null = null;
  if (firstFailure) {
    const test = request.tests[firstFailure.index]!;
    if (!test.hidden) {
      failedTest = {
        index: firstFailure.index,
        input: display(test.input),
        expected: display(test.output),
        actual: display(firstFailure.outcome.stdout),
      };
    }
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
    message: firstFailure ? describe(firstFailure.status, firstFailure.index, firstFailure.outcome) : null,
  };
}

/** Builds a judge over an engine that has already passed check(). */
export function createJudgeWithEngine(engine: SandboxEngine, options: JudgeCoreOptions = {}): Judge {
  const logger = options.logger;
  const slots = new Semaphore(Math.max(1, options.maxConcurrency ?? availableParallelism()));
  let closed = false;

  return {
    engine: engine.name,
    async judge(input, call = {}) {
      if (closed) throw new Error("judge is closed");
      const parsed = judgeRequestSchema.parse(input);
      // The judge enforces the problem bounds too: a request cannot buy a 10-minute run.
      const request: ParsedJudgeRequest = {
        ...parsed,
        timeLimitMs: clamp(parsed.timeLimitMs, PROBLEM_LIMITS.timeLimitMs.min, PROBLEM_LIMITS.timeLimitMs.max),
        memoryLimitMb: clamp(parsed.memoryLimitMb, PROBLEM_LIMITS.memoryLimitMb.min, PROBLEM_LIMITS.memoryLimitMb.max),
      };
      call.signal?.throwIfAborted();
      const release = await slots.acquire(call.signal);
      let session: SandboxSession | null = null;
      const onAbort = () => void session?.dispose();
      call.signal?.addEventListener("abort", onAbort, { once: true });
      const started = Date.now();
      try {
        session = await engine.open();
        const verdict = await judgeInSession(session, request, call);
        logger?.info(
          { engine: engine.name, language: request.language, status: verdict.status, passed: verdict.passed, total: verdict.total, ms: Date.now() - started },
          "judged",
        );
        return verdict;
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason ?? error;
        // Never the user's fault, and never a host path in what they see: details go to the log only.
        logger?.error({ err: error, engine: engine.name, language: request.language }, "judge internal error");
        throw error instanceof SandboxError ? error : new SandboxError("the sandbox failed; the submission was not judged", { cause: error });
      } finally {
        call.signal?.removeEventListener("abort", onAbort);
        await session?.dispose().catch((error: unknown) => logger?.warn({ err: error }, "sandbox dispose failed"));
        release();
      }
    },
    async selfTest() {
      try {
        await engine.check();
      } catch (error) {
        throw error instanceof SandboxError ? error : new SandboxError(`sandbox self-test failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    },
    async close() {
      closed = true;
      await engine.close();
    },
  };
}
