// Redis bytes per queued submission: MEMORY USAGE (every sample, SAMPLES 0) of each key
// whose name holds the submission's id (the BullMQ job hash, jobId = submissionId, and
// any per-job key next to it), for submissions that are still Pending before and after
// the scan. Keys are found by id rather than by BullMQ's layout, so the figure follows
// whatever the enqueue path writes.
import { Redis } from "ioredis";
import { median } from "./report.js";

export interface RedisBytes {
  /** Queued submissions measured. */
  samples: number;
  medianBytes: number;
  minBytes: number;
  maxBytes: number;
  /** Key name patterns ({id} for the submission id) and the median bytes of each. */
  keys: Array<{ pattern: string; medianBytes: number }>;
}

async function allKeys(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

export async function usedMemory(redisUrl: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    const info = await redis.info("memory");
    const match = /^used_memory:(\d+)/m.exec(info);
    if (!match) throw new Error("INFO memory without used_memory");
    return Number(match[1]);
  } finally {
    redis.disconnect();
  }
}

/**
 * `stillQueued` says which of the ids are still waiting (the caller asks the API);
 * only ids queued both before and after the scan count.
 */
export async function measureQueuedBytes(redisUrl: string, ids: readonly string[], stillQueued: (ids: readonly string[]) => Promise<string[]>): Promise<RedisBytes | null> {
  const before = new Set(await stillQueued(ids));
  if (before.size === 0) return null;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const perId = new Map<string, number>();
  const perPattern = new Map<string, number[]>();
  try {
    await redis.connect();
    const keys = await allKeys(redis);
    for (const id of before) {
      let total = 0;
      for (const key of keys.filter((k) => k.includes(id))) {
        const bytes = Number((await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0")) ?? 0);
        total += bytes;
        const pattern = key.split(id).join("{id}");
        perPattern.set(pattern, [...(perPattern.get(pattern) ?? []), bytes]);
      }
      perId.set(id, total);
    }
  } finally {
    redis.disconnect();
  }
  const after = new Set(await stillQueued([...before]));
  const totals = [...perId].filter(([id, bytes]) => after.has(id) && bytes > 0).map(([, bytes]) => bytes);
  if (totals.length === 0) return null;
  return {
    samples: totals.length,
    medianBytes: median(totals),
    minBytes: Math.min(...totals),
    maxBytes: Math.max(...totals),
    keys: [...perPattern].map(([pattern, bytes]) => ({ pattern, medianBytes: median(bytes) })).sort((a, b) => b.medianBytes - a.medianBytes),
  };
}
