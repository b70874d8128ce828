import { createMongoStore } from "./mongodb/mongo.store.js";
import { withOutageMapping } from "./outage.js";
import type { Store, StoreAdapter, StoreConfig } from "./ports.js";
import { createPostgresStore } from "./postgres/postgres.store.js";
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
export async function createStore(config: StoreConfig): Promise<Store> {
  return withOutageMapping(validated(await openAdapter(config)));
}

async function openAdapter(config: StoreConfig): Promise<StoreAdapter> {
  switch (config.kind) {
    case "pglite":
      return createPostgresStore(await openPglite(config.dataDir));
    case "postgres":
      return createPostgresStore(openPostgres(config.url));
    case "mongodb":
      return createMongoStore(config.url, config.dbName);
  }
}
