import type { Queue } from "bullmq";
import {
  EVALUATION_JOBS,
  RESULT_JOB_OPTIONS,
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
