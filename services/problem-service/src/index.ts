export { buildProblemApp, DEFAULT_JSON_BODY_LIMIT, type ProblemAppDeps } from "./app.js";
export { buildOpenApiDocument } from "./openapi/openapi.document.js";
export type { HealthCheck } from "./routes/health.router.js";
export {
  announcingChanges,
  connectProblemChangePublisher,
  createProblemChangePublisher,
  type ProblemChangePublisher,
  type PublishClient,
  type RedisProblemChangePublisher,
} from "./events/problem-changes.publisher.js";
export { createRejudgeClient, DEFAULT_REJUDGE_TIMEOUT_MS, type RejudgeClient, type RejudgeClientOptions } from "./clients/rejudge.client.js";
