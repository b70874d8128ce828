import { createMongoStore } from "./mongodb/mongo.store.js";
import { withOutageMapping } from "./outage.js";
import type { Store, StoreAdapter, StoreConfig } from "./ports.js";
import { createPostgresStore } from "./postgres/postgres.store.js";
import type { PgliteWorkerEvent } from "./postgres/pglite-thread.js";
import { openPglite, openPostgres } from "./postgres/sql-client.js";
import { validated } from "./validated.js";

/**
 * Opens the configured database, runs migrations (PostgreSQL/PGlite) or creates
 * indexes (MongoDB), and returns a ready Store. The caller owns close().
 * Every adapter leaves through validated() (ids, writes and reads checked
 * against the contracts once, for all adapters) and withOutageMapping (a
 * database that is away is the typed DATABASE_UNAVAILABLE error, whichever
 * driver noticed it).
 */
export async function createStore(config: StoreConfig, options: StoreOptions = {}): Promise<Store> {
  return withOutageMapping(validated(await openAdapter(config, options)));
}

/** What the store reports about itself (a pino logger fits); no user data goes into it. */
export interface StoreLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface StoreOptions {
  /** PGlite's worker thread: its exit and restarts are logged here. */
  logger?: StoreLogger;
}

function logWorkerEvent(logger: StoreLogger, event: PgliteWorkerEvent): void {
  switch (event.kind) {
    case "exited":
      return logger.error({ reason: event.reason, restarting: event.restarting }, "PGlite worker thread exited; statements fail as DATABASE_UNAVAILABLE until it is back");
    case "restarted":
      return logger.info({ attempt: event.attempt }, "PGlite worker thread restarted on the same data directory");
    case "restart-failed":
      return logger.warn({ attempt: event.attempt, retryInMs: event.retryInMs, err: { message: event.error.message } }, "PGlite worker thread could not be restarted; retrying");
  }
}

async function openAdapter(config: StoreConfig, options: StoreOptions): Promise<StoreAdapter> {
  const { logger } = options;
  switch (config.kind) {
    case "pglite":
      return createPostgresStore(await openPglite(config.dataDir, logger ? { onWorkerEvent: (event) => logWorkerEvent(logger, event) } : {}));
    case "postgres":
      return createPostgresStore(openPostgres(config.url));
    case "mongodb":
      return createMongoStore(config.url, config.dbName);
  }
}
