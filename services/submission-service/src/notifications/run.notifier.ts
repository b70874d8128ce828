import { SOCKET_EVENTS, type Run, type RunResultEvent } from "@sonocode/contracts";
import type { Redis } from "ioredis";
import { appendUserEvent } from "./user-events.js";

/**
 * The final event of a run (run:result) to every tab of its owner: the stored run without its
 * texts (contracts: runResultEventSchema); GET /api/v1/runs/:id returns them.
 */
export interface RunNotifier {
  /** Appends run:result unless an earlier append was recorded (checked in the append script; `replay` is for the caller's logs). */
  final(run: Run, options?: { replay?: boolean }): Promise<"emitted" | "already-emitted">;
}

/**
 * The run:result payload: the run without each test's input, output and expected and without the
 * compiler output (each up to RUN_TEXT_CAP_BYTES: a run on many visible tests made one stream
 * entry of several MB, kept 10 minutes). Ids, statuses, figures and messages stay.
 */
export function runResultEventPayload(run: Run): RunResultEvent {
  const { compileOutput: _compileOutput, results, ...rest } = run;
  return {
    ...rest,
    results: results.map(({ input: _input, output: _output, expected: _expected, ...kept }) => kept),
  };
}

/** How long "run:result went out" is remembered: replays and retries come within minutes. */
const RUN_MARK_TTL_SECONDS = 3_600;

/**
 * Through the user-events stream, like submission events (user-events.ts): the database is the
 * truth and a client that missed the event re-reads GET /api/v1/runs/:id. Runs have no progress
 * events, so no ordering gate; the append records a "went out" mark (same script), so a
 * replayed result, or a retry of an append whose reply was lost, appends nothing twice.
 */
export function createRunNotifier(redis: Redis, prefix: string): RunNotifier {
  const markKey = (run: Run) => `${prefix}:run-notified:${run._id}`;
  return {
    async final(run) {
      // For the stored owner, never for a user named by a job payload. The mark check is inside
      // the append script: two appends of one run:result at once add one. Without the texts.
      const id = await appendUserEvent(redis, prefix, run.userId, SOCKET_EVENTS.runResult, runResultEventPayload(run), {
        mode: "marked",
        markKey: markKey(run),
        markTtlSeconds: RUN_MARK_TTL_SECONDS,
      });
      return id === null ? "already-emitted" : "emitted";
    },
  };
}
