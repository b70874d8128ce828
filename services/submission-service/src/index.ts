export { buildSubmissionApp, bodyLimitFor, type SubmissionAppDeps } from "./app.js";
export { SUBMISSION_LIMIT_DEFAULTS, type SubmissionLimits } from "./domain/submission-limits.js";
export { createProblemClient, type ProblemClient, type ProblemClientOptions } from "./clients/problem.client.js";
export {
  createProblemCache,
  PROBLEM_CACHE_DEFAULTS,
  type CachedProblemClient,
  type ProblemCacheOptions,
  type ProblemCacheStats,
} from "./clients/problem-cache.client.js";
export { createIngestPipeline, type IngestPipeline, type IngestPipelineOptions } from "./queues/ingest.pipeline.js";
export { createSubmissionQueue, enqueueSubmission, type SubmissionQueueHandle, type SubmissionQueueOptions } from "./queues/submission.queue.js";
export {
  createResultConsumer,
  DEFAULT_RESULT_CONCURRENCY,
  type ResultConsumerDeps,
  type ResultConsumerHandle,
} from "./workers/results.consumer.js";
export {
  createSubmissionReconciler,
  RECONCILER_DEFAULTS,
  type ReconcileReport,
  type ReconcilerDeps,
  type ReconcilerHandle,
} from "./workers/submission.reconciler.js";
export {
  createRejudgeFeeder,
  rejudgeGaveUpMessage,
  REJUDGE_FEEDER_DEFAULTS,
  REJUDGE_PRIORITY,
  type RejudgeFeeder,
  type RejudgeFeederDeps,
  type RejudgeFeederStats,
  type RejudgeFeedReport,
} from "./rejudge/rejudge.feeder.js";
export { createRejudgeMarker, REJUDGE_MARKER_DEFAULTS, type RejudgeMarker, type RejudgeMarkReport } from "./rejudge/rejudge.marker.js";
export { buildSource } from "./domain/source.builder.js";
export { buildSubmissionJob } from "./domain/submission-job.builder.js";
export { DEFAULT_MAX_CODE_BYTES } from "@sonocode/contracts";
export { submissionEnvSchema, type SubmissionEnv } from "./config.js";
