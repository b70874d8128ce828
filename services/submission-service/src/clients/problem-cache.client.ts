import { objectIdSchema, type JudgingProblem } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import { PROBLEM_CHANGES_ALL, problemChangesChannel, quitRedis } from "@sonocode/redis";
import { Redis } from "ioredis";
import type { ProblemClient } from "./problem.client.js";

/**
 * Defaults: an entry lives at most 30 s even if every invalidation were lost (a
 * deleted problem stops taking submissions within that bound; the evaluator
 * makes any that slipped through IE, since the test set is gone), and at most
 * 1,000 judging views are kept (a few KiB each: stubs and limits, no tests).
 */
export const PROBLEM_CACHE_DEFAULTS = { ttlMs: 30_000, maxEntries: 1_000 } as const;

export interface ProblemCacheOptions {
  /** The uncached client (problem-service's internal route). */
  source: ProblemClient;
  redisUrl: string;
  /** REDIS_PREFIX: the channel problem-service publishes changes on. */
  prefix: string;
  logger: Logger;
  ttlMs?: number;
  maxEntries?: number;
  /** Clock, for tests of the TTL. */
  now?: () => number;
}

export interface ProblemCacheStats {
  hits: number;
  misses: number;
  invalidations: number;
  size: number;
  /** Subscribed to the change channel: only then are entries served. */
  live: boolean;
}

export interface CachedProblemClient extends ProblemClient {
  /** Resolves once the first subscription is confirmed (entries are served from then on). */
  ready(): Promise<void>;
  stats(): ProblemCacheStats;
  close(): Promise<void>;
}

interface Entry {
  problem: JudgingProblem;
  expiresAt: number;
}

/**
 * The judging view of problems, cached per submission-service replica so a POST
 * costs no call to problem-service. Correctness rests on three rules:
 *
 * 1. problem-service publishes the id of every problem it replaces, patches or
 *    deletes on `<prefix>:problem-changes` after the write commits; every
 *    replica's subscriber drops that entry (and discards a load racing it).
 * 2. An entry is served only while the subscription is up, and every entry is
 *    dropped when the connection drops: messages sent while we were away are
 *    never seen, so nothing from before the gap is trusted after it.
 * 3. A TTL bounds what a lost publish (problem-service could not reach Redis)
 *    can cost: a stale view lives at most ttlMs.
 *
 * "Not found" is never cached, so a deleted problem is refused as soon as its
 * invalidation arrives, and a miss always asks problem-service. Concurrent
 * misses for one id share a single request.
 */
export function createProblemCache(options: ProblemCacheOptions): CachedProblemClient {
  const ttlMs = options.ttlMs ?? PROBLEM_CACHE_DEFAULTS.ttlMs;
  const maxEntries = options.maxEntries ?? PROBLEM_CACHE_DEFAULTS.maxEntries;
  const now = options.now ?? Date.now;
  const channel = problemChangesChannel(options.prefix);
  const log = options.logger.child({ component: "problem-cache" });

  // Map order is recency order: a hit moves its entry to the end, eviction takes the first.
  const entries = new Map<string, Entry>();
  const loads = new Map<string, Promise<JudgingProblem | null>>();
  // Bumped by every invalidation and every change of connection state: a load
  // that started under another generation may hold pre-change data and is not kept.
  let generation = 0;
  let live = false;
  let closed = false;
  const counters = { hits: 0, misses: 0, invalidations: 0 };

  const dropAll = () => {
    generation += 1;
    entries.clear();
    loads.clear();
  };

  // A connection of its own: a subscribed connection can issue no other command.
  // autoResubscribe is off because we resubscribe ourselves and must know when it is confirmed.
  const subscriber = new Redis(options.redisUrl, { autoResubscribe: false, maxRetriesPerRequest: null, lazyConnect: true, connectionName: `problem-cache:${options.prefix}` });
  let firstSubscription: () => void = () => undefined;
  const subscribed = new Promise<void>((resolve) => (firstSubscription = resolve));
  subscriber.on("error", () => undefined);
  subscriber.on("ready", () => {
    subscriber.subscribe(channel).then(
      () => {
        if (closed) return;
        dropAll();
        live = true;
        firstSubscription();
      },
      (error: unknown) => log.warn({ err: error }, "could not subscribe to problem changes; serving uncached"),
    );
  });
  subscriber.on("close", () => {
    if (live) log.warn("problem-change subscription lost; serving uncached until it is back");
    live = false;
    dropAll();
  });
  subscriber.on("message", (from: string, message: string) => {
    if (from !== channel) return;
    counters.invalidations += 1;
    if (message === PROBLEM_CHANGES_ALL) {
      dropAll();
      return;
    }
    const id = objectIdSchema.safeParse(message);
    // An id we cannot read may still have been meant for a cached entry: drop them all.
    if (!id.success) {
      dropAll();
      return;
    }
    generation += 1;
    entries.delete(id.data);
    loads.delete(id.data);
  });
  subscriber.connect().catch(() => undefined);

  const store = (id: string, problem: JudgingProblem) => {
    entries.delete(id);
    entries.set(id, { problem, expiresAt: now() + ttlMs });
    while (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
  };

  const load = (id: string): Promise<JudgingProblem | null> => {
    const pending = loads.get(id);
    if (pending) return pending;
    const startedIn = generation;
    const request = options.source.getProblem(id).then(
      (problem) => {
        if (loads.get(id) === request) loads.delete(id);
        if (problem && live && generation === startedIn) store(id, problem);
        return problem;
      },
      (error: unknown) => {
        if (loads.get(id) === request) loads.delete(id);
        throw error;
      },
    );
    loads.set(id, request);
    return request;
  };

  return {
    async getProblem(id) {
      if (!live || ttlMs <= 0) {
        counters.misses += 1;
        return options.source.getProblem(id);
      }
      const entry = entries.get(id);
      if (entry && entry.expiresAt > now()) {
        counters.hits += 1;
        entries.delete(id);
        entries.set(id, entry);
        return entry.problem;
      }
      if (entry) entries.delete(id);
      counters.misses += 1;
      return load(id);
    },
    ready: () => subscribed,
    stats: () => ({ ...counters, size: entries.size, live }),
    async close() {
      closed = true;
      live = false;
      dropAll();
      await quitRedis(subscriber);
    },
  };
}
