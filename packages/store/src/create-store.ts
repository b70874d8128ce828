import { createMongoStore } from "./mongodb/mongo.store.js";
import type { Store, StoreConfig } from "./ports.js";
import { createPostgresStore } from "./postgres/postgres.store.js";
import { openPglite, openPostgres } from "./postgres/sql-client.js";

/**
 * Opens the configured database, runs migrations (PostgreSQL/PGlite) or creates
 * indexes (MongoDB), and returns a ready Store. The caller owns close().
 */
export async function createStore(config: StoreConfig): Promise<Store> {
  switch (config.kind) {
    case "pglite":
      return createPostgresStore(await openPglite(config.dataDir));
    case "postgres":
      return createPostgresStore(openPostgres(config.url));
    case "mongodb":
      return createMongoStore(config.url, config.dbName);
  }
}
