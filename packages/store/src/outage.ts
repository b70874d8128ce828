import { AppError, isAppError } from "@sonocode/errors";
import type { Store } from "./ports.js";

/**
 * Connection-class failures: the database is away (refused, reset, unreachable),
 * overloaded (too many connections, pool or query timeouts) or shutting down. A
 * retry later can succeed, so callers answer 503 or wait; anything else (a
 * constraint, bad text) is a different error and is never mapped here.
 */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs: class 08 (connection exception) is matched by prefix; 57P01-57P03
 * (admin/crash shutdown, cannot connect now: the server is restarting), 53300 (too
 * many connections), 57014 (statement cancelled: our statement_timeout fired on an
 * overloaded server).
 */
const OUTAGE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "57014"]);

/** node-postgres and PGlite report these conditions by message only. */
const OUTAGE_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /not queryable/i,
  /cannot use a pool after calling end/i,
  /pglite is closed/i,
];

/** MongoDB driver error classes that mean "no server to talk to right now". */
const MONGO_OUTAGE_NAMES = new Set([
  "MongoServerSelectionError",
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoPoolClearedError",
  "MongoTopologyClosedError",
  "MongoNotConnectedError",
  "MongoWaitQueueTimeoutError",
]);

function isOutageLeaf(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === "string" && (NETWORK_CODES.has(code) || OUTAGE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof name === "string" && MONGO_OUTAGE_NAMES.has(name)) return true;
  return typeof message === "string" && OUTAGE_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * True for connection-class database errors, looking through `cause` chains and
 * AggregateErrors (pg reports every address it tried when all are refused).
 */
export function isConnectionError(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== "object" || error === null) return false;
  if (isAppError(error)) return error.code === "DATABASE_UNAVAILABLE";
  if (isOutageLeaf(error)) return true;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.some((inner) => isConnectionError(inner, depth + 1))) return true;
  return isConnectionError(cause, depth + 1);
}

/** True for the typed error every adapter throws when the database is away. */
export function isDatabaseUnavailable(error: unknown): error is AppError {
  return isAppError(error) && error.code === "DATABASE_UNAVAILABLE";
}

export function databaseUnavailable(cause: unknown): AppError {
  return new AppError("DATABASE_UNAVAILABLE", "the database is unavailable; try again shortly", {
    cause,
    details: { component: "database" },
    retryAfterSeconds: 5,
  });
}

function mapOutage(error: unknown): never {
  if (!isAppError(error) && isConnectionError(error)) throw databaseUnavailable(error);
  throw error;
}

/** Wraps every method of a repository so connection-class errors leave it as DATABASE_UNAVAILABLE. */
function guarded<T extends object>(target: T): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      const value: unknown = Reflect.get(object, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        try {
          const result: unknown = (value as (...a: unknown[]) => unknown).apply(object, args);
          return result instanceof Promise ? result.catch(mapOutage) : result;
        } catch (error) {
          return mapOutage(error);
        }
      };
    },
  });
}

/**
 * The one place connection-class errors are recognised: every adapter's store
 * leaves createStore() through here, so services only ever see the typed
 * DATABASE_UNAVAILABLE AppError (503 in both HTTP error handlers, "wait and
 * retry" in the result consumer) and never a driver's raw error.
 */
export function withOutageMapping(store: Store): Store {
  return {
    kind: store.kind,
    problems: guarded(store.problems),
    submissions: guarded(store.submissions),
    runs: guarded(store.runs),
    rejudges: guarded(store.rejudges),
    rejudgeRequests: guarded(store.rejudgeRequests),
    ping: () => store.ping().catch(mapOutage),
    close: () => store.close(),
  };
}
