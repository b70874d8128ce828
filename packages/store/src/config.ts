import { join } from "node:path";
import type { StoreConfig } from "./ports.js";

/** A store configuration that cannot work; thrown at start-up so a bad deploy fails fast. */
export class StoreConfigError extends Error {
  override name = "StoreConfigError";
}

/** The variables of storeEnvSchema (@sonocode/config), structurally, so the store does not depend on config. */
export interface StoreEnv {
  DATABASE_URL?: string | undefined;
  MONGO_URL?: string | undefined;
  MONGO_DB?: string | undefined;
  DATA_DIR?: string | undefined;
}

/**
 * Picks the adapter from the environment:
 * - DATABASE_URL (postgres:// or postgresql://) -> PostgreSQL server;
 * - MONGO_URL (mongodb:// or mongodb+srv://) -> MongoDB, database MONGO_DB;
 * - neither -> PGlite in DATA_DIR/pglite, or in memory when DATA_DIR is ":memory:".
 * Both URLs set is an error rather than a silent preference: the operator meant one.
 */
export function storeConfigFromEnv(env: StoreEnv): StoreConfig {
  const databaseUrl = blankToUndefined(env.DATABASE_URL);
  const mongoUrl = blankToUndefined(env.MONGO_URL);
  if (databaseUrl && mongoUrl) {
    throw new StoreConfigError("both DATABASE_URL and MONGO_URL are set: set exactly one (or neither, for PGlite in DATA_DIR)");
  }
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//i.test(databaseUrl)) throw new StoreConfigError("DATABASE_URL must start with postgres:// or postgresql://");
    return { kind: "postgres", url: databaseUrl };
  }
  if (mongoUrl) {
    if (!/^mongodb(\+srv)?:\/\//i.test(mongoUrl)) throw new StoreConfigError("MONGO_URL must start with mongodb:// or mongodb+srv://");
    const dbName = blankToUndefined(env.MONGO_DB) ?? "sonocode";
    return { kind: "mongodb", url: mongoUrl, dbName };
  }
  const dataDir = blankToUndefined(env.DATA_DIR) ?? "./.data";
  return { kind: "pglite", dataDir: dataDir === ":memory:" ? null : join(dataDir, "pglite") };
}

function blankToUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
