// The worker thread that owns a PGlite database (see pglite-thread.ts). PGlite's WASM
// PostgreSQL and its synchronous file I/O run here, off the thread that serves HTTP.
// Statements arrive in order on one port and go to PGlite in that order: its own mutex
// serialises them (a top-level statement waits for an open transaction to end), as it
// does in the caller's thread.
import { PGlite, type Results, type Transaction } from "@electric-sql/pglite";
import { parentPort, workerData } from "node:worker_threads";
import { createPreparedRunner, type PreparedRunner } from "./pglite-prepared.js";
import { toWireError, type PgliteReady, type PgliteReply, type PgliteRequest, type PgliteWorkerData } from "./pglite-protocol.js";

const port = parentPort;
if (!port) throw new Error("pglite.worker.ts must run in a worker thread");
const { dataDir } = workerData as PgliteWorkerData;

interface OpenTransaction {
  tx: Transaction;
  /** Lets PGlite's transaction callback return (COMMIT) or throw (ROLLBACK); the request id answers when it has. */
  finish: (end: { commit: boolean; id: number }) => void;
}

/** Thrown out of PGlite's transaction callback to roll it back; never reported as an error. */
const ROLLBACK = Symbol("rollback");
const transactions = new Map<number, OpenTransaction>();

const answer = (reply: PgliteReply) => port.postMessage(reply);
const failed = (id: number, error: unknown) => answer({ id, ok: false, error: toWireError(error) });

async function query(db: PGlite, prepared: PreparedRunner, request: Extract<PgliteRequest, { op: "query" }>): Promise<void> {
  let result: Results<Record<string, unknown>>;
  if (request.tx !== undefined) {
    const open = transactions.get(request.tx);
    if (!open) throw new Error(`transaction ${request.tx} is not open`);
    result = await open.tx.query<Record<string, unknown>>(request.text, request.params);
  } else if (request.params.length > 0) {
    // Parameterised top-level statements (every repository call) run prepared; the rest
    // (DDL, tests' ad-hoc SQL) as before.
    result = await prepared.query(request.text, request.params);
  } else {
    result = await db.query<Record<string, unknown>>(request.text);
  }
  answer({ id: request.id, ok: true, rows: result.rows, affectedRows: result.affectedRows ?? 0 });
}

function begin(db: PGlite, request: Extract<PgliteRequest, { op: "begin" }>): void {
  let endId: number | undefined;
  let began = false;
  db.transaction(
    (tx) =>
      new Promise<void>((resolve, reject) => {
        began = true;
        transactions.set(request.tx, {
          tx,
          finish: (end) => {
            endId = end.id;
            transactions.delete(request.tx);
            if (end.commit) resolve();
            else reject(ROLLBACK);
          },
        });
        answer({ id: request.id, ok: true, rows: [], affectedRows: 0 });
      }),
  ).then(
    () => answer({ id: endId!, ok: true, rows: [], affectedRows: 0 }),
    (error: unknown) => {
      transactions.delete(request.tx);
      // BEGIN itself failed: the begin request is the one waiting.
      if (!began) return failed(request.id, error);
      if (error === ROLLBACK) answer({ id: endId!, ok: true, rows: [], affectedRows: 0 });
      else failed(endId!, error);
    },
  );
}

async function main(): Promise<void> {
  let db: PGlite;
  try {
    db = dataDir === null ? await PGlite.create() : await PGlite.create(dataDir);
  } catch (error) {
    port!.postMessage({ ready: false, error: toWireError(error) } satisfies PgliteReady);
    return;
  }
  const prepared = createPreparedRunner(db);
  port!.on("message", (request: PgliteRequest) => {
    switch (request.op) {
      case "query":
        query(db, prepared, request).catch((error: unknown) => failed(request.id, error));
        return;
      case "begin":
        begin(db, request);
        return;
      case "end": {
        const open = transactions.get(request.tx);
        if (open) open.finish({ commit: request.commit, id: request.id });
        else failed(request.id, new Error(`transaction ${request.tx} is not open`));
        return;
      }
      case "close":
        // Open transactions roll back with the database; close() is the caller's last request.
        db.close().then(
          () => answer({ id: request.id, ok: true, rows: [], affectedRows: 0 }),
          (error: unknown) => failed(request.id, error),
        );
        return;
    }
  });
  port!.postMessage({ ready: true } satisfies PgliteReady);
}

void main();
