import type { Logger } from "@sonocode/logger";

/**
 * Final events whose append failed after their database write, kept by the component that
 * wrote them (the reconciler, the rejudge feeder, the run sweep) and sent again at the start of
 * its next tick. Without this, a Redis blip at that moment left a tab that stayed connected
 * showing Pending/Running for good while the database said IE: those finals are written by
 * ticks, and the next tick no longer looks at a final row.
 *
 * Retries go through the notifier's replay path, which checks the "went out" mark the append
 * script sets with the entry: an append that did reach Redis (only its reply was lost) is not
 * appended twice. What is owed lives in this process's memory, so a process that dies before
 * its next tick still loses the event (the database has the verdict; a client re-reads it when
 * its socket reconnects); the results consumer's finals are durable (their job is parked).
 */
export interface OwedFinals<T> {
  /** Records an event whose append failed; the next settle() sends it again. */
  owe(item: T): void;
  /** Sends the owed events, oldest first, until one fails; that one and the rest stay owed. */
  settle(): Promise<{ sent: number; owed: number }>;
  /** Events still owed. */
  size(): number;
}

/**
 * Enough for an outage's worth of IE verdicts by one tick owner; past it the oldest is dropped
 * (logged): memory stays bounded whatever the outage.
 */
export const OWED_FINALS_MAX = 10_000;

export function createOwedFinals<T>(options: {
  /** Identity of an item (a second owe of the same item replaces the first). */
  keyOf: (item: T) => string;
  /** Sends one owed event; throws when it still cannot. */
  send: (item: T) => Promise<void>;
  logger: Logger;
  max?: number;
}): OwedFinals<T> {
  const max = options.max ?? OWED_FINALS_MAX;
  const owed = new Map<string, T>();
  let settling: Promise<{ sent: number; owed: number }> | null = null;

  async function settleOnce(): Promise<{ sent: number; owed: number }> {
    let sent = 0;
    let lastError: unknown;
    for (const [key, item] of [...owed]) {
      try {
        await options.send(item);
        sent++;
        // Only if not owed anew meanwhile (same item, a later failure): that one is still owed.
        if (owed.get(key) === item) owed.delete(key);
      } catch (error) {
        // Redis (or the database) is still away: the rest would fail the same way, each after
        // its own timeout, inside the owner's tick. They wait for the next one.
        lastError = error;
        break;
      }
    }
    if (sent > 0) options.logger.info({ sent, owed: owed.size }, "owed final events sent");
    if (lastError !== undefined) options.logger.warn({ err: lastError, owed: owed.size }, "owed final events still not sent; retried next tick");
    return { sent, owed: owed.size };
  }

  return {
    owe(item) {
      const key = options.keyOf(item);
      owed.delete(key);
      owed.set(key, item);
      if (owed.size > max) {
        const oldest = owed.keys().next().value as string;
        owed.delete(oldest);
        options.logger.error({ dropped: oldest, max }, "too many final events owed; the oldest is dropped (the database has its verdict)");
      }
    },
    settle() {
      if (owed.size === 0) return Promise.resolve({ sent: 0, owed: 0 });
      // One settle at a time: two overlapping ones would send the same event twice.
      settling ??= settleOnce().finally(() => {
        settling = null;
      });
      return settling;
    },
    size: () => owed.size,
  };
}
