export { buildProblemApp, DEFAULT_JSON_BODY_LIMIT, type ProblemAppDeps } from "./app.js";
export { buildOpenApiDocument } from "./openapi/openapi.document.js";
export type { HealthCheck } from "./routes/health.router.js";
