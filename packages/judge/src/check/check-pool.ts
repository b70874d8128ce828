// A small pool of checker worker threads. Checking a 64 MiB output is linear but still
// tens of milliseconds of CPU; on the judge's thread that would delay HTTP, sockets and
// queue-lock renewal. Here the judge only posts a message (the output's memory is
// transferred, not copied) and awaits the answer.
import { Worker } from "node:worker_threads";
import type { Checker } from "@sonocode/contracts";
import type { CheckReply, CheckTask, ExpectedSource } from "./check-protocol.js";

export type { ExpectedSource } from "./check-protocol.js";

export interface CheckPool {
  /** True when `actual` is accepted against `expected` by `checker`. `actual` is consumed (its memory moves to a worker). */
  check(checker: Checker, expected: ExpectedSource, actual: Uint8Array): Promise<boolean>;
  /** Terminates the workers; pending and later checks reject. Idempotent. */
  close(): Promise<void>;
}

export interface CheckPoolOptions {
  /** Worker threads (default 2). */
  size?: number;
}

interface Pending {
  task: CheckTask;
  resolve: (accepted: boolean) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | null;
}

// The pool runs from TypeScript sources (under tsx) or from compiled JavaScript. Node 20 does
// not carry tsx's loader into worker threads, so a .ts worker is started by a tiny bootstrap
// that registers tsx in the worker first.
const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./check-worker.ts" : "./check-worker.js", import.meta.url);
function startWorker(): Worker {
  if (!WORKER_URL.pathname.endsWith(".ts")) return new Worker(WORKER_URL);
  // Resolved here, against this package: the worker's eval code would resolve against the cwd.
  const tsx = import.meta.resolve("tsx/esm/api");
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`, { eval: true });
}

/**
 * The output's memory as a transferable ArrayBuffer. Small buffers are copied: Node packs them
 * into shared pool slabs (of Buffer.poolSize bytes), which must not be detached. Anything larger
 * is moved, whole: the caller's `actual` is consumed, as check() says.
 */
function transferable(bytes: Uint8Array): Uint8Array {
  const movable = bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength > Buffer.poolSize;
  return movable ? bytes : new Uint8Array(bytes);
}

export function createCheckPool(options: CheckPoolOptions = {}): CheckPool {
  const size = Math.max(1, options.size ?? 2);
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  function spawnSlot(): Slot {
    const worker = startWorker();
    // An idle worker must not keep the process alive.
    worker.unref();
    const slot: Slot = { worker, busy: null };
    worker.on("message", (reply: CheckReply) => {
      const pending = slot.busy;
      if (!pending || pending.task.id !== reply.id) return;
      slot.busy = null;
      if (reply.ok) pending.resolve(reply.accepted);
      else pending.reject(new Error(`checker failed: ${reply.error}`));
      pump();
    });
    const lost = (why: Error) => {
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      slot.busy?.reject(why);
      slot.busy = null;
      if (!closed) pump();
    };
    worker.on("error", (error) => lost(error instanceof Error ? error : new Error(String(error))));
    worker.on("exit", (code) => lost(new Error(`checker worker exited (${code})`)));
    slots.push(slot);
    return slot;
  }

  function pump(): void {
    while (queue.length > 0 && !closed) {
      let slot = slots.find((s) => s.busy === null);
      if (!slot && slots.length < size) slot = spawnSlot();
      if (!slot) return;
      const pending = queue.shift()!;
      slot.busy = pending;
      slot.worker.ref();
      const { actual } = pending.task;
      slot.worker.postMessage(pending.task, [actual.buffer as ArrayBuffer]);
    }
    for (const slot of slots) if (slot.busy === null) slot.worker.unref();
  }

  return {
    check(checker, expected, actual) {
      if (closed) return Promise.reject(new Error("check pool is closed"));
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ task: { id: nextId++, checker, expected, actual: transferable(actual) }, resolve, reject });
        pump();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const error = new Error("check pool is closed");
      for (const pending of queue.splice(0)) pending.reject(error);
      await Promise.all(slots.splice(0).map(async (slot) => {
        slot.busy?.reject(error);
        slot.busy = null;
        await slot.worker.terminate();
      }));
    },
  };
}
