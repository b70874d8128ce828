import type { Queue } from "bullmq";
import {
  EVALUATION_JOBS,
  evaluationResultSchema,
  progressEventSchema,
  type EvaluationResult,
  type ProgressEvent,
} from "@sonocode/contracts";

/** What the processor needs from EvaluationQueue: two typed publishes. */
export interface EvaluationPublisher {
  progress(event: ProgressEvent): Promise<void>;
  result(result: EvaluationResult): Promise<void>;
}

// Progress is disposable (the next one supersedes it): keep little and never retry.
const PROGRESS_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 1_000 },
  removeOnFail: { count: 1_000 },
} as const;

// The result is the one message that must arrive: the consumer may retry it (its database
// may be briefly down), and failed ones are kept a week for inspection.
// No custom jobId on purpose: BullMQ silently drops an add whose id still exists, so
// `result-${submissionId}` would swallow a rejudge's result while the previous job is kept.
// Duplicates are harmless instead: the consumer's write is idempotent (final never regresses).
const RESULT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: "exponential", delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

export function createEvaluationPublisher(queue: Queue): EvaluationPublisher {
  return {
    async progress(event) {
      // Parsed here so a bug on our side fails loudly in the evaluator, not in the consumer.
      await queue.add(EVALUATION_JOBS.progress, progressEventSchema.parse(event), PROGRESS_JOB_OPTIONS);
    },
    async result(result) {
      await queue.add(EVALUATION_JOBS.result, evaluationResultSchema.parse(result), RESULT_JOB_OPTIONS);
    },
  };
}
