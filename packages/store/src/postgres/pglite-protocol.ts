// Messages between the PGlite client (pglite-thread.ts, on the caller's thread) and the
// worker thread that owns the database (pglite.worker.ts). Every request has an id; the
// worker answers each request exactly once, with the same id.

/** A statement: top level, or inside the open transaction `tx`. */
export interface QueryRequest {
  op: "query";
  id: number;
  text: string;
  params: unknown[];
  tx?: number;
}

/** Opens transaction `tx`; answered once BEGIN has run (statements of `tx` may follow). */
export interface BeginRequest {
  op: "begin";
  id: number;
  tx: number;
}

/** Ends transaction `tx`: COMMIT when `commit`, ROLLBACK otherwise; answered once it has. */
export interface EndRequest {
  op: "end";
  id: number;
  tx: number;
  commit: boolean;
}

export interface CloseRequest {
  op: "close";
  id: number;
}

export type PgliteRequest = QueryRequest | BeginRequest | EndRequest | CloseRequest;

/**
 * An error as it crosses the thread boundary: its message and name plus its own
 * primitive fields (PGlite's DatabaseError carries the SQLSTATE in `code`, and
 * `detail`, `constraint`...), which the store reads to classify it.
 */
export interface WireError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

export type PgliteReply =
  | { id: number; ok: true; rows: Record<string, unknown>[]; affectedRows: number }
  | { id: number; ok: false; error: WireError };

/** What the worker reports once, after PGlite opened (or failed to). */
export type PgliteReady = { ready: true } | { ready: false; error: WireError };

export interface PgliteWorkerData {
  /** Absolute path of the data directory, or null for an in-memory database. */
  dataDir: string | null;
}

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(error)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") fields[key] = value;
  }
  return { name: error.name, message: error.message, fields };
}

export function fromWireError(wire: WireError): Error {
  const error = Object.assign(new Error(wire.message), wire.fields);
  error.name = wire.name;
  return error;
}
