import {
  DEFAULT_CHECKER,
  JUDGE_DEFAULTS,
  LANGUAGES,
  MAX_RUN_INPUT_BYTES,
  RUN_JOB,
  RUN_RETENTION_MS,
  languageInputSchema,
  runJobId,
  runJobSchema,
  type AuthClaims,
  type CreatedRun,
  type JudgingProblem,
  type Language,
  type Run,
  type RunJob,
  type RunReference,
} from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import type { Store } from "@sonocode/store";
import type { Queue } from "bullmq";
import type { ProblemClient } from "../clients/problem.client.js";
import { DEFAULT_ENQUEUE_TIMEOUT_MS, KEEP_COMPLETED, KEEP_FAILED, withTimeout } from "../queues/submission.queue.js";
import type { DomainLogger } from "./submissions.service.js";
import { buildSource } from "./source.builder.js";

/**
 * A run not final this long after its POST is made IE by the sweep (see run.sweeper.ts): its
 * job or its evaluator was lost. Long enough for a run of many visible tests at the largest
 * limits (20 s CPU, 41 s wall each) behind a queue of other runs.
 */
export const RUN_DEFAULT_DEADLINE_MS = 10 * 60_000;

export interface RunDraft {
  problemId: string;
  language: string;
  code: string;
  input?: string | undefined;
}

/** What a run needs from the problem beyond the judging view: admin-only or per-test facts. */
export interface RunProblemFacts {
  visibleTests: number;
  /** An interactive problem's program talks to its interactor: there is no output of its own to show. */
  interactive: boolean;
  referenceSolution?: { language: Language; code: string } | undefined;
}

export interface RunsServiceDeps {
  store: Store;
  problems: ProblemClient;
  /** SubmissionQueue: runs share it with submissions (same evaluators) at a higher priority. */
  queue: Queue;
  maxCodeBytes: number;
  /** Non-final submissions + runs a (non-admin) user may have at once; 0 = unlimited. */
  maxInFlight?: number;
  deadlineMs?: number;
  enqueueTimeoutMs?: number;
}

const IN_FLIGHT_RETRY_AFTER_SECONDS = 5;
/** Problems whose run facts a replica keeps (one stored read per problem version, not per POST). */
const FACTS_CACHE_ENTRIES = 256;

function limitsFor(problem: JudgingProblem, language: Language): { timeLimitMs: number; memoryLimitMb: number } {
  const own = problem.languageLimits?.[language];
  return {
    timeLimitMs: own?.timeLimitMs ?? problem.timeLimitMs ?? JUDGE_DEFAULTS.timeLimitMs,
    memoryLimitMb: own?.memoryLimitMb ?? problem.memoryLimitMb ?? JUDGE_DEFAULTS.memoryLimitMb,
  };
}

/**
 * POST /api/v1/runs and GET /api/v1/runs/:id. A run is persisted Pending, then queued on
 * SubmissionQueue *without* a BullMQ priority: BullMQ serves its plain wait list before its
 * prioritized set, and every submission is queued with a priority (1 and up: fairness and the
 * reconciler; rejudges lower still), so a run is always taken before any waiting submission.
 */
export class RunsService {
  /** problemId -> the facts of the version the judging view names (its updatedAt), least recently used first. */
  private readonly facts = new Map<string, { updatedAt: string; facts: RunProblemFacts }>();

  constructor(private readonly deps: RunsServiceDeps) {}

  async create(caller: AuthClaims, draft: RunDraft, log: DomainLogger): Promise<CreatedRun> {
    const codeBytes = Buffer.byteLength(draft.code, "utf8");
    if (codeBytes > this.deps.maxCodeBytes) {
      throw new AppError("PAYLOAD_TOO_LARGE", `code must be at most ${this.deps.maxCodeBytes} bytes`, { details: { maxCodeBytes: this.deps.maxCodeBytes, codeBytes } });
    }
    if (draft.input !== undefined) {
      const inputBytes = Buffer.byteLength(draft.input, "utf8");
      if (inputBytes > MAX_RUN_INPUT_BYTES) {
        throw new AppError("VALIDATION_FAILED", `input must be at most ${MAX_RUN_INPUT_BYTES} bytes`, { details: { maxInputBytes: MAX_RUN_INPUT_BYTES, inputBytes } });
      }
    }
    const language = languageInputSchema.safeParse(draft.language);
    if (!language.success) {
      throw new AppError("UNSUPPORTED_LANGUAGE", `unsupported language; supported: ${LANGUAGES.join(", ")}`, { details: { supported: LANGUAGES } });
    }
    const problem = await this.deps.problems.getProblem(draft.problemId);
    const facts = problem ? await this.problemFacts(problem) : null;
    if (!problem || !facts) throw AppError.notFound("PROBLEM_NOT_FOUND", `problem ${draft.problemId} not found`);
    if (facts.interactive) {
      throw new AppError("VALIDATION_FAILED", "run code is not available for interactive problems; submit instead", { details: { reason: "INTERACTIVE_PROBLEM" } });
    }
    if (draft.input === undefined && facts.visibleTests === 0) {
      throw new AppError("VALIDATION_FAILED", "this problem has no visible tests: give an input to run on", { details: { reason: "NO_VISIBLE_TESTS" } });
    }

    const maxInFlight = this.deps.maxInFlight ?? 0;
    if (caller.role !== "admin" && maxInFlight > 0) {
      const [runs, submissions] = await Promise.all([this.deps.store.runs.countActiveByUser(caller.sub), this.deps.store.submissions.countActiveByUser(caller.sub)]);
      if (runs + submissions >= maxInFlight) {
        throw new AppError("TOO_MANY_REQUESTS", `at most ${maxInFlight} submissions and runs may be in flight at once; wait for a result`, {
          details: { limit: "in-flight", max: maxInFlight },
          retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS,
        });
      }
    }

    const now = Date.now();
    const deadline = now + (this.deps.deadlineMs ?? RUN_DEFAULT_DEADLINE_MS);
    const run = await this.deps.store.runs.create({
      userId: caller.sub,
      problemId: problem._id,
      language: language.data,
      deadlineAt: new Date(deadline).toISOString(),
      expiresAt: new Date(now + RUN_RETENTION_MS).toISOString(),
    });
    const runLog = log.child({ runId: run._id });
    const job = buildRunJob(problem, run, buildSource(problem, language.data, draft.code), draft.input, facts.referenceSolution, deadline);
    try {
      await this.enqueue(job);
    } catch (error) {
      runLog.warn({ err: error }, "enqueue failed; removing the Pending run");
      await this.deps.store.runs.delete(run._id).catch((deleteError: unknown) => runLog.error({ err: deleteError }, "could not remove the Pending run after a failed enqueue"));
      throw error;
    }
    runLog.info({ problemId: run.problemId, language: run.language, codeBytes, custom: draft.input !== undefined }, "run queued");
    return { _id: run._id, status: "Pending" };
  }

  /** The run, to its owner or an admin; anyone else gets the same 404 as for a run that does not exist. */
  async get(caller: AuthClaims, id: string): Promise<Run> {
    const run = await this.deps.store.runs.findById(id);
    if (!run || (run.userId !== caller.sub && caller.role !== "admin")) throw AppError.notFound("NOT_FOUND", `run ${id} not found`);
    return run;
  }

  /**
   * The visible-test count and the reference solution come from the problem's stored document:
   * the judging view that problem-service serves carries neither (the reference is admin-only
   * and never leaves the platform's own processes: it travels in the run job, in Redis). The
   * document holds every test, so it is read once per problem version (the judging view's
   * updatedAt, itself cached and invalidated by problem-service's announcements), not per POST.
   */
  private async problemFacts(view: JudgingProblem): Promise<RunProblemFacts | null> {
    const cached = this.facts.get(view._id);
    if (cached && cached.updatedAt === view.updatedAt) {
      this.facts.delete(view._id);
      this.facts.set(view._id, cached);
      return cached.facts;
    }
    const problem = await this.deps.store.problems.findById(view._id);
    if (!problem) {
      this.facts.delete(view._id);
      return null;
    }
    const facts: RunProblemFacts = {
      visibleTests: problem.testCases.filter((test) => !test.hidden).length,
      interactive: problem.interactor !== undefined,
      referenceSolution: problem.referenceSolution,
    };
    // Cached under the version read (a newer one than the view is fine: the next POST re-reads).
    this.facts.delete(view._id);
    this.facts.set(view._id, { updatedAt: problem.updatedAt, facts });
    while (this.facts.size > FACTS_CACHE_ENTRIES) this.facts.delete(this.facts.keys().next().value as string);
    return facts;
  }

  private async enqueue(job: RunJob): Promise<void> {
    const timeoutMs = this.deps.enqueueTimeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS;
    const queue = this.deps.queue;
    try {
      // Nothing is written before the connection is ready, so a timed-out request leaves no job.
      await withTimeout(queue.waitUntilReady(), timeoutMs, "queue connection not ready");
      await withTimeout(
        queue.add(RUN_JOB, runJobSchema.parse(job), {
          jobId: runJobId(job.runId),
          // One try more than none: a run is interactive, and its deadline ends a lost one anyway.
          attempts: 2,
          backoff: { type: "fixed", delay: 500 },
          removeOnComplete: KEEP_COMPLETED,
          removeOnFail: KEEP_FAILED,
        }),
        timeoutMs,
        "enqueue timed out",
      );
    } catch (error) {
      throw new AppError("QUEUE_UNAVAILABLE", "submission queue is unavailable; try again shortly", { cause: error });
    }
  }
}

/** The run job: the program and the problem's test-set reference; the reference solution only for a custom input. */
export function buildRunJob(
  problem: JudgingProblem,
  run: Pick<Run, "_id" | "userId" | "problemId" | "language">,
  source: string,
  input: string | undefined,
  reference: RunProblemFacts["referenceSolution"],
  deadline: number,
): RunJob {
  let referenceJob: RunReference | undefined;
  if (input !== undefined && reference) {
    // The reference runs with the limits of its own language, wrapped in that language's stub like any program.
    referenceJob = { language: reference.language, source: buildSource(problem, reference.language, reference.code), ...limitsFor(problem, reference.language) };
  }
  return {
    runId: run._id,
    userId: run.userId,
    problemId: run.problemId,
    language: run.language,
    source,
    testSet: { problemId: problem._id, hash: problem.testSet.hash, count: problem.testSet.count },
    ...(input === undefined ? {} : { input }),
    ...(referenceJob ? { reference: referenceJob } : {}),
    ...limitsFor(problem, run.language),
    checker: problem.checker ?? DEFAULT_CHECKER,
    deadline,
  };
}
