export { createEvaluatorWorker, WORKER_TIMINGS, type EvaluatorWorker, type EvaluatorWorkerDeps } from "./worker.js";
export { createEvaluatorService, type EvaluatorService } from "./service.js";
export { createEvaluatorHttpHandler, type EvaluatorHttpDeps } from "./http.js";
export { EvaluatorMetrics } from "./metrics.js";
export { createEvaluationPublisher, type EvaluationPublisher } from "./evaluation.publisher.js";
export { createEvaluateProcessor, InvalidPayloadError, IE_MESSAGES, type EvaluateOutcome } from "./processors/evaluate.processor.js";
export type { EvaluatorJudge } from "./judge.port.js";
