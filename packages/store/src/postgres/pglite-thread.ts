// PGlite in a worker thread of its own, behind the same SqlClient as a PostgreSQL pool.
//
// PGlite is PostgreSQL compiled to WASM; run in the caller's thread, every statement's
// parse, plan and execution (and its synchronous file I/O, with a data directory) is time
// that thread's event loop serves nobody: in embedded mode about half the CPU of a
// submission POST (issue 9). Here the database lives in a worker thread and a statement
// costs the caller one message each way (its parameters and rows structured-cloned).
import { Worker } from "node:worker_threads";
import { fromWireError, type PgliteReady, type PgliteReply, type PgliteRequest, type PgliteWorkerData } from "./pglite-protocol.js";
import type { SqlClient, SqlExecutor, SqlResult } from "./sql-client.js";

// Run from TypeScript sources (under tsx) or compiled JavaScript. Node 20 does not carry
// tsx's loader into worker threads, so a .ts worker is started by a bootstrap that
// registers tsx in the worker first (as the judge's checker pool does).
const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./pglite.worker.ts" : "./pglite.worker.js", import.meta.url);

function startWorker(data: PgliteWorkerData): Worker {
  if (!WORKER_URL.pathname.endsWith(".ts")) return new Worker(WORKER_URL, { workerData: data });
  // Resolved here, against this package: the worker's eval code would resolve against the cwd.
  const tsx = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

interface Waiting {
  resolve: (reply: Extract<PgliteReply, { ok: true }>) => void;
  reject: (error: Error) => void;
}

type Request = PgliteRequest extends infer R ? (R extends PgliteRequest ? Omit<R, "id"> : never) : never;

/** What the outage mapping recognises as "the database is away" (as PGlite's own message after close). */
const closedError = (why?: string) => new Error(why ? `PGlite is closed (${why})` : "PGlite is closed");

/**
 * Opens PGlite on `dataDir` (absolute, or null: in memory) in a new worker thread.
 * Resolves once the database is open; rejects with PGlite's error if it could not be.
 * The worker keeps the process alive only while a statement is in flight. If the
 * worker dies, every waiting and later statement fails as "PGlite is closed", which
 * the store reports as DATABASE_UNAVAILABLE.
 */
export async function openPgliteThread(dataDir: string | null): Promise<SqlClient> {
  const worker = startWorker({ dataDir });
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let nextTx = 1;
  let lost: Error | undefined;
  let closing: Promise<void> | undefined;

  const fail = (error: Error) => {
    lost ??= error;
    for (const entry of waiting.values()) entry.reject(lost);
    waiting.clear();
    worker.unref();
  };

  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`PGlite worker exited (code ${code}) before the database opened`));
    worker.once("error", reject);
    worker.once("exit", onExit);
    worker.once("message", (ready: PgliteReady) => {
      worker.off("error", reject);
      worker.off("exit", onExit);
      if (ready.ready) resolve();
      else reject(fromWireError(ready.error));
    });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  worker.unref();

  worker.on("message", (reply: PgliteReply) => {
    const entry = waiting.get(reply.id);
    if (!entry) return;
    waiting.delete(reply.id);
    if (waiting.size === 0) worker.unref();
    if (reply.ok) entry.resolve(reply);
    else entry.reject(fromWireError(reply.error));
  });
  worker.on("error", (error) => fail(closedError(`its worker thread failed: ${error.message}`)));
  worker.on("exit", (code) => fail(closedError(`its worker thread exited with code ${code}`)));

  const send = (request: Request): Promise<Extract<PgliteReply, { ok: true }>> => {
    if (lost) return Promise.reject(lost);
    if (closing && request.op !== "close") return Promise.reject(closedError());
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (waiting.size === 0) worker.ref();
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...request, id } as PgliteRequest);
    });
  };

  const executor = (tx?: number): SqlExecutor => ({
    query: async <R extends object>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> => {
      const reply = await send({ op: "query", text, params: [...params], ...(tx === undefined ? {} : { tx }) });
      return { rows: reply.rows as R[], rowCount: Math.max(reply.affectedRows, reply.rows.length) };
    },
  });

  return {
    dialect: "pglite",
    ...executor(),
    transaction: async (fn) => {
      const tx = nextTx++;
      await send({ op: "begin", tx });
      let value: Awaited<ReturnType<typeof fn>>;
      try {
        value = await fn(executor(tx));
      } catch (error) {
        // The callback's error is the one to report; a failed ROLLBACK (worker gone) changes nothing for the caller.
        await send({ op: "end", tx, commit: false }).catch(() => undefined);
        throw error;
      }
      await send({ op: "end", tx, commit: true });
      return value;
    },
    close: () => {
      closing ??= (async () => {
        if (!lost) await send({ op: "close" }).catch(() => undefined);
        lost ??= closedError();
        await worker.terminate();
      })();
      return closing;
    },
  };
}
