// A small pool of checker worker threads. Checking a 64 MiB output is linear but still
// tens of milliseconds of CPU; on the judge's thread that would delay HTTP, sockets and
// queue-lock renewal. Here the judge only posts a message (the output's memory is
// transferred, not copied) and awaits the answer. Small outputs against small answers, the
// common case, are compared on the judge's thread instead (INLINE_CHECK_BYTES).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Checker } from "@sonocode/contracts";
import { checkOutput } from "../checkers.js";
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

/**
 * An output and an answer both at most this big are compared on the judge's thread, by the
 * same checkOutput() a worker runs: that takes microseconds, less than the hop to a worker and
 * back (a message each way, two thread wake-ups), which was most of the checking CPU of a
 * small test (issue 9: ~0.25 ms per test in the burst, worker and judge threads together).
 */
export const INLINE_CHECK_BYTES = 16 * 1024;

/** The expected answer when it is small enough to check inline, else null. Throws as the worker's read would (a missing file). */
function smallExpected(expected: ExpectedSource): string | Buffer | null {
  // UTF-16 units: at most 3 UTF-8 bytes each, so still a few tens of KiB at most.
  if ("text" in expected) return expected.text.length <= INLINE_CHECK_BYTES ? expected.text : null;
  const fd = openSync(expected.path, "r");
  try {
    const size = fstatSync(fd).size;
    if (size > INLINE_CHECK_BYTES) return null;
    // One byte more than its size: a file that grew since fstat goes to a worker, which reads it whole.
    const buf = Buffer.allocUnsafe(size + 1);
    let length = 0;
    for (let n; length < buf.length && (n = readSync(fd, buf, length, buf.length - length, length)) > 0; ) length += n;
    return length > size ? null : buf.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** The worker's answer for a small check, computed here: accepted, or its "checker failed" error. */
function checkInline(checker: Checker, expected: ExpectedSource, actual: Uint8Array): Promise<boolean> | null {
  if (actual.byteLength > INLINE_CHECK_BYTES) return null;
  try {
    const text = smallExpected(expected);
    if (text === null) return null;
    return Promise.resolve(checkOutput(checker, text, actual));
  } catch (error) {
    return Promise.reject(new Error(`checker failed: ${error instanceof Error ? error.message : String(error)}`));
  }
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
      const inline = checkInline(checker, expected, actual);
      if (inline) return inline;
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
