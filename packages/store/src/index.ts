export type { ActiveSubmissionQuery, ActiveSubmissionRef, AdmissionOutcome, AdmissionRequest, Page, ProblemListQuery, ProblemRepository, RunCursor, RunRepository, Store, StoreConfig, StoreKind, SubmissionRepository } from "./ports.js";
export { createStore, type StoreLogger, type StoreOptions } from "./create-store.js";
export { storeConfigFromEnv, StoreConfigError, type StoreEnv } from "./config.js";
export { newObjectId, normalizeId } from "./object-id.js";
export { databaseUnavailable, isConnectionError, isDatabaseUnavailable, withOutageMapping } from "./outage.js";
