import {
  LANGUAGES,
  languageInputSchema,
  pageInfo,
  type AuthClaims,
  type PageInfo,
  type Submission,
  type SubmissionListQuery,
  type SubmissionSummary,
  type createdSubmissionSchema,
} from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import type { Store } from "@sonocode/store";
import type { z } from "zod";
import type { ProblemClient } from "../clients/problem.client.js";
import type { IngestPipeline } from "../queues/ingest.pipeline.js";
import { createAdmissionBatcher, type AdmissionBatcher } from "./admission.batcher.js";
import { buildSubmissionJob } from "./submission-job.builder.js";
import { withPercentile } from "./percentile.js";

export type CreatedSubmission = z.infer<typeof createdSubmissionSchema>;

/** The slice of a pino logger the domain uses; the request's logger (with reqId) is passed in. */
export interface DomainLogger {
  child(bindings: Record<string, unknown>): DomainLogger;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SubmissionDraft {
  problemId: string;
  /** As the client sent it: checked against LANGUAGES here, case-insensitively. */
  language: string;
  code: string;
}

export interface SubmissionsServiceDeps {
  store: Store;
  problems: ProblemClient;
  /** The POST path's Redis (see createIngestPipeline): adds of one event-loop turn share one pipeline. */
  enqueuer: Pick<IngestPipeline, "enqueue">;
  maxCodeBytes: number;
  /** Non-final submissions a (non-admin) user may have at once; 0 = unlimited. */
  maxInFlight?: number;
}

/** BullMQ priorities stop mattering long before this; it keeps the value in range. */
const MAX_PRIORITY = 1_000;

export class SubmissionsService {
  /** The in-flight cap and the insert, batched per event-loop turn (one count and one insert per batch). */
  private readonly admission: AdmissionBatcher;

  constructor(private readonly deps: SubmissionsServiceDeps) {
    this.admission = createAdmissionBatcher({ store: deps.store, maxInFlight: deps.maxInFlight ?? 0 });
  }

  /**
   * Persist Pending, then enqueue with jobId = submissionId. If the enqueue
   * fails (Redis away: 503 QUEUE_UNAVAILABLE) the row is deleted again, so the
   * client's 503 means "nothing was accepted". A row that outlives that (the
   * process died between commit and enqueue, or the delete failed too) is not
   * stuck: the reconciler finds the Pending submission without a job after its
   * grace period and enqueues it with the same jobId.
   */
  async create(caller: AuthClaims, draft: SubmissionDraft, log: DomainLogger): Promise<CreatedSubmission> {
    const codeBytes = Buffer.byteLength(draft.code, "utf8");
    if (codeBytes > this.deps.maxCodeBytes) {
      throw new AppError("PAYLOAD_TOO_LARGE", `code must be at most ${this.deps.maxCodeBytes} bytes`, {
        details: { maxCodeBytes: this.deps.maxCodeBytes, codeBytes },
      });
    }
    // Checked before the problem lookup: a request that is wrong on its own costs no call to problem-service.
    const language = languageInputSchema.safeParse(draft.language);
    if (!language.success) {
      throw new AppError("UNSUPPORTED_LANGUAGE", `unsupported language; supported: ${LANGUAGES.join(", ")}`, {
        details: { supported: LANGUAGES },
      });
    }
    const problem = await this.deps.problems.getProblem(draft.problemId);
    if (!problem) throw AppError.notFound("PROBLEM_NOT_FOUND", `problem ${draft.problemId} not found`);

    // The caller's submissions still in flight: capped (admins exempt), and the new job's place in line.
    const { submission, inFlight } = await this.admission.admit(caller, {
      userId: caller.sub,
      problemId: problem._id,
      language: language.data,
      code: draft.code,
      total: problem.testSet.count,
    });
    // The id goes into each line rather than a child logger: a child costs its bindings' serialisation on every POST.
    const submissionId = submission._id;
    try {
      await this.deps.enqueuer.enqueue(buildSubmissionJob(problem, submission), {
        // Fairness: a user's k-th submission in flight waits behind everyone's first, so one
        // user's burst delays another user's submission by at most one judging slot per user.
        priority: Math.min(inFlight + 1, MAX_PRIORITY),
      });
    } catch (error) {
      log.warn({ submissionId, err: error }, "enqueue failed; removing the Pending submission");
      await this.deps.store.submissions.delete(submissionId).catch((deleteError: unknown) => {
        log.error({ submissionId, err: deleteError }, "could not remove the Pending submission after a failed enqueue");
      });
      throw error;
    }
    log.info({ submissionId, problemId: submission.problemId, language: submission.language, codeBytes }, "submission queued");
    return {
      _id: submission._id,
      userId: submission.userId,
      problemId: submission.problemId,
      language: submission.language,
      status: submission.status,
      createdAt: submission.createdAt,
    };
  }

  /**
   * The whole submission, to its owner or an admin (an accepted one with its percentile); anyone
   * else gets the same 404 as for a submission that does not exist, as for runs (a 403 told a
   * prober which ids exist).
   */
  async get(caller: AuthClaims, id: string): Promise<Submission> {
    const submission = await this.deps.store.submissions.findById(id);
    if (!submission || (submission.userId !== caller.sub && caller.role !== "admin")) {
      throw AppError.notFound("SUBMISSION_NOT_FOUND", `submission ${id} not found`);
    }
    return withPercentile(this.deps.store, submission);
  }

  /** The caller's own submissions, newest first, without code or per-test details. */
  async listOwn(caller: AuthClaims, query: SubmissionListQuery): Promise<{ submissions: SubmissionSummary[]; pagination: PageInfo }> {
    const page = await this.deps.store.submissions.listByUser(caller.sub, query);
    return {
      submissions: page.items.map(({ code: _code, results: _results, failedTest: _failedTest, compileOutput: _compileOutput, ...summary }) => summary),
      pagination: pageInfo(query, page.total),
    };
  }
}
