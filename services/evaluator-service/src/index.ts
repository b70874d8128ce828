export { createEvaluatorWorker, DEFAULT_ENGINE_HEALTH, WORKER_TIMINGS, type EngineHealthPolicy, type EvaluatorWorker, type EvaluatorWorkerDeps } from "./worker.js";
export { createEvaluatorService, type EvaluatorService } from "./service.js";
export { createEvaluatorHttpHandler, type EvaluatorHttpDeps } from "./http.js";
export { EngineHealth, type EngineHealthOptions, type EngineStatus } from "./engine-health.js";
export { EvaluatorMetrics } from "./metrics.js";
export { createEvaluationPublisher, type EvaluationPublisher } from "./evaluation.publisher.js";
export { createEvaluateProcessor, InvalidPayloadError, LockLostError, IE_MESSAGES, type EvaluateOutcome } from "./processors/evaluate.processor.js";
export { DEFAULT_SANDBOX_RETRY, SandboxAttemptsExhaustedError, sandboxRetryDelay, type SandboxRetryPolicy } from "./processors/sandbox-retry.js";
export type { EvaluatorJudge } from "./judge.port.js";
