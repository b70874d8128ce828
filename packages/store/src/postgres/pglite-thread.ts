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

/** A worker that died is replaced at once; a replacement that cannot open is tried again after these pauses. */
const RESTART_FIRST_PAUSE_MS = 500;
const RESTART_MAX_PAUSE_MS = 10_000;

/** What happens to the worker thread, for whoever watches the client (there is no logger down here). */
export type PgliteWorkerEvent =
  | { kind: "exited"; reason: string; restarting: boolean }
  | { kind: "restarted"; attempt: number }
  | { kind: "restart-failed"; attempt: number; error: Error; retryInMs: number };

export interface PgliteThreadOptions {
  onWorkerEvent?: (event: PgliteWorkerEvent) => void;
}

/** Starts a worker on `dataDir` and resolves once its database is open (rejects with PGlite's error, the worker ended). */
async function openWorker(dataDir: string | null): Promise<Worker> {
  const worker = startWorker({ dataDir });
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
  return worker;
}

/** One worker thread and the requests waiting for its answer; `dead` once it failed or exited. */
interface Thread {
  worker: Worker;
  waiting: Map<number, Waiting>;
  dead?: Error;
}

/**
 * Opens PGlite on `dataDir` (absolute, or null: in memory) in a new worker thread.
 * Resolves once the database is open; rejects with PGlite's error if it could not be.
 * The worker keeps the process alive only while a statement is in flight.
 *
 * If the worker dies (out of memory, a crash), the statements waiting for it, its open
 * transactions and every statement sent until a new worker is up fail as "PGlite is
 * closed (...)", which the store reports as DATABASE_UNAVAILABLE. A new worker is started
 * on the same data directory once the old one has exited (never two on one directory;
 * PostgreSQL recovers from its WAL), again after a growing pause while it cannot open.
 * An in-memory database died with its worker: it stays closed.
 */
export async function openPgliteThread(dataDir: string | null, options: PgliteThreadOptions = {}): Promise<SqlClient> {
  const notify = options.onWorkerEvent ?? (() => undefined);
  let nextId = 1;
  let nextTx = 1;
  /** Closed for good: by close(), or an in-memory database whose worker died. */
  let lost: Error | undefined;
  let closing: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  let endPause: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => endPause?.(), ms);
      timer.unref();
      endPause = () => {
        clearTimeout(timer);
        endPause = undefined;
        resolve();
      };
    });

  const restart = async (): Promise<void> => {
    for (let attempt = 1, pauseMs = RESTART_FIRST_PAUSE_MS; !closing; attempt++) {
      try {
        current = attach(await openWorker(dataDir));
        notify({ kind: "restarted", attempt });
        return;
      } catch (error) {
        if (closing) return;
        notify({ kind: "restart-failed", attempt, error: error instanceof Error ? error : new Error(String(error)), retryInMs: pauseMs });
        await pause(pauseMs);
        pauseMs = Math.min(pauseMs * 2, RESTART_MAX_PAUSE_MS);
      }
    }
  };

  const attach = (worker: Worker): Thread => {
    const thread: Thread = { worker, waiting: new Map() };
    const fail = (error: Error) => {
      thread.dead ??= error;
      for (const entry of thread.waiting.values()) entry.reject(thread.dead);
      thread.waiting.clear();
      worker.unref();
    };
    worker.on("message", (reply: PgliteReply) => {
      const entry = thread.waiting.get(reply.id);
      if (!entry) return;
      thread.waiting.delete(reply.id);
      if (thread.waiting.size === 0) worker.unref();
      if (reply.ok) entry.resolve(reply);
      else entry.reject(fromWireError(reply.error));
    });
    // "error" is followed by "exit": the new worker starts only once this one has let go of the data directory.
    worker.on("error", (error) => fail(closedError(`its worker thread failed: ${error.message}`)));
    worker.on("exit", (code) => {
      fail(closedError(`its worker thread exited with code ${code}`));
      if (closing || thread !== current) return;
      const restartable = dataDir !== null;
      notify({ kind: "exited", reason: thread.dead!.message, restarting: restartable });
      if (!restartable) {
        lost ??= thread.dead;
        return;
      }
      restarting = restart().finally(() => (restarting = undefined));
    });
    return thread;
  };

  let current = attach(await openWorker(dataDir));

  const post = (thread: Thread, request: Request): Promise<Extract<PgliteReply, { ok: true }>> => {
    const refused = thread.dead ?? lost;
    if (refused) return Promise.reject(refused);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (thread.waiting.size === 0) thread.worker.ref();
      thread.waiting.set(id, { resolve, reject });
      thread.worker.postMessage({ ...request, id } as PgliteRequest);
    });
  };
  // A new top-level statement or transaction; refused once closing. The statements and the
  // end of a transaction already open go to its own worker (post), also while closing: the
  // worker's close waits for that transaction to end.
  const send = (request: Request) => (closing && !lost ? Promise.reject(closedError()) : post(current, request));

  const executor = (thread: Thread, tx?: number): SqlExecutor => ({
    query: async <R extends object>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> => {
      const request: Request = { op: "query", text, params: [...params], ...(tx === undefined ? {} : { tx }) };
      const reply = await (tx === undefined ? send(request) : post(thread, request));
      return { rows: reply.rows as R[], rowCount: Math.max(reply.affectedRows, reply.rows.length) };
    },
  });

  return {
    dialect: "pglite",
    query: (text, params) => executor(current).query(text, params),
    transaction: async (fn) => {
      // Transaction ids are the worker's: this one's statements and END go to the worker it began on, or fail with it.
      const thread = current;
      const tx = nextTx++;
      await send({ op: "begin", tx });
      let value: Awaited<ReturnType<typeof fn>>;
      try {
        value = await fn(executor(thread, tx));
      } catch (error) {
        // The callback's error is the one to report; a failed ROLLBACK (worker gone) changes nothing for the caller.
        await post(thread, { op: "end", tx, commit: false }).catch(() => undefined);
        throw error;
      }
      await post(thread, { op: "end", tx, commit: true });
      return value;
    },
    close: () => {
      closing ??= (async () => {
        endPause?.();
        await restarting;
        if (!lost && !current.dead) await post(current, { op: "close" }).catch(() => undefined);
        lost ??= closedError();
        await current.worker.terminate();
      })();
      return closing;
    },
  };
}
