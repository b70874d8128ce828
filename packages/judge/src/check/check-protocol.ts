// Messages between the judge and its checker workers (check-pool.ts <-> check-worker.ts).
import type { Checker } from "@sonocode/contracts";

/** The expected answer: text from the request, or a host file (a cached test set) the worker reads. */
export type ExpectedSource = { readonly text: string } | { readonly path: string };

export interface CheckTask {
  id: number;
  checker: Checker;
  expected: ExpectedSource;
  /** The program's stdout; its buffer is transferred, not copied. */
  actual: Uint8Array;
}

export type CheckReply = { id: number; ok: true; accepted: boolean } | { id: number; ok: false; error: string };
