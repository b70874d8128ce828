import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import pg from "pg";
import { openPgliteThread, type PgliteThreadOptions } from "./pglite-thread.js";

/**
 * The tiny query interface the PostgreSQL adapter is written against, so one
 * implementation serves both PGlite (embedded, in a worker thread) and a real server (pg.Pool).
 * Parameters are positional ($1, $2...); jsonb values are passed as JSON text
 * and cast in SQL (`$n::jsonb`), because pg would turn a JS array into a
 * PostgreSQL array literal and PGlite would double-encode a pre-stringified value
 * if the parameter were typed jsonb without the text round-trip.
 */
export interface SqlExecutor {
  query<R extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
}

export interface SqlResult<R> {
  rows: R[];
  /** Rows inserted, updated, deleted or returned by the statement. */
  rowCount: number;
}

export type SqlDialect = "pglite" | "postgres";

export interface SqlClient extends SqlExecutor {
  readonly dialect: SqlDialect;
  /** Runs fn inside BEGIN/COMMIT on one connection; ROLLBACK when fn throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const openDataDirs = new Set<string>();

/**
 * PGlite in a worker thread of its own (pglite-thread.ts): its WASM PostgreSQL does
 * not run on the caller's event loop. PGlite is a single connection whose mutex
 * serialises query() and transaction() calls (a top-level query waits for an open
 * transaction to end), so concurrent callers are safe without another lock here;
 * what must not happen is issuing top-level queries from inside a transaction
 * callback (that would deadlock), which is why the callback gets `tx`, never the client.
 */
export async function openPglite(dataDir: string | null, options: PgliteThreadOptions = {}): Promise<SqlClient> {
  const key = dataDir === null ? null : resolve(dataDir);
  // Two PGlite instances on one directory corrupt it (each thinks it owns the
  // files). In embedded mode several services share a process, so the second
  // open must fail loudly: they are meant to share one Store.
  if (key !== null) {
    if (openDataDirs.has(key)) throw new Error(`PGlite data directory ${key} is already open in this process: share one Store instead of opening it twice`);
    openDataDirs.add(key);
  }
  let client: SqlClient;
  try {
    if (key !== null) await mkdir(key, { recursive: true });
    client = await openPgliteThread(key, options);
  } catch (error) {
    if (key !== null) openDataDirs.delete(key);
    throw error;
  }
  return {
    dialect: client.dialect,
    query: (text, params) => client.query(text, params),
    transaction: (fn) => client.transaction(fn),
    close: async () => {
      try {
        await client.close();
      } finally {
        if (key !== null) openDataDirs.delete(key);
      }
    },
  };
}

export interface PostgresPoolOptions {
  max?: number;
  /** Waiting for a connection (a new one, or a free one from a busy pool) gives up after this. */
  connectionTimeoutMs?: number;
  /** Server-side statement_timeout and client-side read timeout of every query. */
  queryTimeoutMs?: number;
}

/**
 * Deadlines that keep a request under ~10 s when the server is away or wedged:
 * a connect (or a wait for a pooled connection) gives up after 3 s, a statement
 * after 6 s. The largest writes (a 10 MB problem) take well under a second.
 */
export const POSTGRES_TIMEOUTS = { connectionTimeoutMs: 3_000, queryTimeoutMs: 6_000 } as const;

/** A pooled client for a real PostgreSQL server. */
export function openPostgres(url: string, options: PostgresPoolOptions = {}): SqlClient {
  const queryTimeoutMs = options.queryTimeoutMs ?? POSTGRES_TIMEOUTS.queryTimeoutMs;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? POSTGRES_TIMEOUTS.connectionTimeoutMs,
    // The server cancels a runaway statement; the client stops waiting on a server that went silent.
    statement_timeout: queryTimeoutMs,
    query_timeout: queryTimeoutMs + 1_000,
    // A dead peer (host down, cable cut) is noticed by TCP keepalive instead of never.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled it
  // would crash the process. The next query fails (and reports) instead.
  pool.on("error", () => {});
  const run = async <R extends object>(executor: pg.Pool | pg.PoolClient, text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> => {
    const result = await executor.query<R & pg.QueryResultRow>(text, [...params]);
    return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length };
  };
  let closed = false;
  return {
    dialect: "postgres",
    query: (text, params) => run(pool, text, params),
    transaction: async (fn) => {
      const client = await pool.connect();
      // A connection whose ROLLBACK failed is in an unknown state: destroy it
      // rather than hand it back to the pool.
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const value = await fn({ query: (text, params) => run(client, text, params) });
        await client.query("COMMIT");
        return value;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
