/**
 * Live progress for one submission, coalesced: a 1 ms test must not cost one queue job, one
 * database write and one socket emit each. The judge reports every test; this publishes
 *
 * - the "Running" announcement at once (the user sees it start), and the first test's count
 *   too, unless `holdFirstCount` holds it one interval,
 * - then at most one count per interval, always the latest (a burst collapses into one),
 * - and nothing once finish() is called: the final result goes out right after it, so no
 *   progress is ever queued behind (or raced against) the verdict by this evaluator.
 *
 * update() never waits for Redis, so the judge's next test does not either. One publish is in
 * flight at a time, in order; a failed one is the caller's to log (progress is best effort).
 */
export interface ProgressCoalescer {
  /** The passed count so far; published now or at the next slot. */
  update(passed: number): void;
  /** Cancels any pending publish and waits for the one in flight. Idempotent. */
  finish(): Promise<void>;
}

export interface ProgressCoalescerOptions {
  publish: (passed: number) => Promise<void>;
  /** Minimum gap between two published counts after the first test's (default 250 ms). */
  intervalMs?: number;
  /**
   * Hold the first test's count one interval after it arrives instead of publishing it at once
   * (default false). A judging whose tests end within that interval then sends one progress
   * event (the announcement) before its verdict, not two; a slower one shows its count at most
   * one interval late.
   */
  holdFirstCount?: boolean;
  /** Clock, for tests. */
  now?: () => number;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 250;
const FINISH_WAIT_CAP_MS = 2_000;

export function createProgressCoalescer(options: ProgressCoalescerOptions): ProgressCoalescer {
  const intervalMs = options.intervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const holdFirstCount = options.holdFirstCount ?? false;
  const now = options.now ?? (() => performance.now());
  let inFlight: Promise<void> = Promise.resolve();
  let lastPublishedAt = -Infinity;
  let published = -1;
  let latest = -1;
  let updates = 0;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  function publishLatest(): void {
    timer = undefined;
    if (finished || latest <= published) return;
    const value = latest;
    published = value;
    lastPublishedAt = now();
    // Chained: counts reach the queue in the order they were taken, never a smaller one after a larger.
    inFlight = inFlight.then(() => options.publish(value)).catch(() => undefined);
  }

  return {
    update(passed) {
      if (finished) return;
      updates += 1;
      latest = Math.max(latest, passed);
      if (timer) return; // the pending publish will carry the latest count
      // The announcement (first update) goes out at once, the first test's count too unless held.
      const wait = updates === 1 ? 0 : updates === 2 ? (holdFirstCount ? intervalMs : 0) : lastPublishedAt + intervalMs - now();
      if (wait <= 0) publishLatest();
      else timer = setTimeout(publishLatest, wait);
    },
    async finish() {
      finished = true;
      clearTimeout(timer);
      timer = undefined;
      // Normally one Redis round trip. Bounded so a publish stuck in a Redis outage cannot hold the
      // verdict back by itself; if it lands later anyway, the consumer drops a progress event for a
      // final submission (the database refuses it, and the socket gate refuses a late emit).
      let cap: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise<void>((resolve) => (cap = setTimeout(resolve, FINISH_WAIT_CAP_MS)))]);
      clearTimeout(cap);
    },
  };
}
