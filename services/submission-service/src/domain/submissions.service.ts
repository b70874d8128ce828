import {
  JUDGE_DEFAULTS,
  LANGUAGES,
  DEFAULT_CHECKER,
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
import type { Queue } from "bullmq";
import type { z } from "zod";
import type { ProblemClient } from "../clients/problem.client.js";
import { enqueueSubmission } from "../queues/submission.queue.js";
import { buildSource } from "./source.builder.js";

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
  queue: Queue;
  maxCodeBytes: number;
  enqueueTimeoutMs?: number;
}

export class SubmissionsService {
  constructor(private readonly deps: SubmissionsServiceDeps) {}

  /**
   * Persist Pending, then enqueue with jobId = submissionId. If the enqueue
   * fails the row is deleted again: a Pending submission no worker will ever
   * see would be "stuck" forever, which is worse than a clean 503.
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

    const source = buildSource(problem, language.data, draft.code);
    const submission = await this.deps.store.submissions.create({
      userId: caller.sub,
      problemId: problem._id,
      language: language.data,
      code: draft.code,
      total: problem.testCases.length,
    });
    const submissionLog = log.child({ submissionId: submission._id });
    try {
      await enqueueSubmission(
        this.deps.queue,
        {
          submissionId: submission._id,
          userId: submission.userId,
          problemId: submission.problemId,
          language: submission.language,
          source,
          testCases: problem.testCases.map((test) => ({ input: test.input, output: test.output, hidden: test.hidden })),
          timeLimitMs: problem.timeLimitMs ?? JUDGE_DEFAULTS.timeLimitMs,
          memoryLimitMb: problem.memoryLimitMb ?? JUDGE_DEFAULTS.memoryLimitMb,
          checker: problem.checker ?? DEFAULT_CHECKER,
          runAllTests: problem.runAllTests ?? false,
        },
        this.deps.enqueueTimeoutMs,
      );
    } catch (error) {
      submissionLog.warn({ err: error }, "enqueue failed; removing the Pending submission");
      await this.deps.store.submissions.delete(submission._id).catch((deleteError: unknown) => {
        submissionLog.error({ err: deleteError }, "could not remove the Pending submission after a failed enqueue");
      });
      throw error;
    }
    submissionLog.info({ problemId: submission.problemId, language: submission.language, codeBytes }, "submission queued");
    return {
      _id: submission._id,
      userId: submission.userId,
      problemId: submission.problemId,
      language: submission.language,
      status: submission.status,
      createdAt: submission.createdAt,
    };
  }

  /** The whole submission, to its owner or an admin. */
  async get(caller: AuthClaims, id: string): Promise<Submission> {
    const submission = await this.deps.store.submissions.findById(id);
    if (!submission) throw AppError.notFound("SUBMISSION_NOT_FOUND", `submission ${id} not found`);
    if (submission.userId !== caller.sub && caller.role !== "admin") {
      throw AppError.forbidden("this submission belongs to another user");
    }
    return submission;
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
