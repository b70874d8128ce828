import type { Logger } from "@sonocode/logger";
import { connectRedis, problemChangesChannel, quitRedis } from "@sonocode/redis";
import type { ProblemRepository } from "@sonocode/store";

/** Tells every submission-service replica that a problem's judging view changed. */
export interface ProblemChangePublisher {
  /** Never throws: the write it follows is already committed. */
  publish(problemId: string): Promise<void>;
}

/** The slice of an ioredis client publishing needs. */
export interface PublishClient {
  publish(channel: string, message: string): Promise<number>;
}

export interface ProblemChangePublisherOptions {
  redis: PublishClient;
  /** REDIS_PREFIX, shared with submission-service. */
  prefix: string;
  logger: Logger;
  /** A hung Redis must not hold the admin's request: past this the publish is given up. */
  timeoutMs?: number;
}

const DEFAULT_PUBLISH_TIMEOUT_MS = 1_000;

/**
 * Publishes the id on `<prefix>:problem-changes`. A failed publish is logged,
 * not raised: the change is committed, and a subscriber that missed it serves
 * the old view at most for its cache TTL (PROBLEM_CACHE_TTL_MS).
 */
export function createProblemChangePublisher(options: ProblemChangePublisherOptions): ProblemChangePublisher {
  const channel = problemChangesChannel(options.prefix);
  const timeoutMs = options.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  return {
    async publish(problemId) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          options.redis.publish(channel, problemId),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`publish timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (error) {
        options.logger.warn({ err: error, problemId }, "could not publish a problem change; submission-service caches expire on their own");
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The repository with every successful replace, patch and delete announced,
 * after the write and before the caller answers, so an admin who gets the
 * response knows the replicas have been told. A Proxy rather than a copy of the
 * port: reads and any method added to the port later pass through untouched.
 */
export function announcingChanges(problems: ProblemRepository, publisher: ProblemChangePublisher): ProblemRepository {
  const announced: Partial<ProblemRepository> = {
    async replace(id, input) {
      const problem = await problems.replace(id, input);
      if (problem) await publisher.publish(problem._id);
      return problem;
    },
    async update(id, patch) {
      const problem = await problems.update(id, patch);
      if (problem) await publisher.publish(problem._id);
      return problem;
    },
    async delete(id) {
      const deleted = await problems.delete(id);
      if (deleted) await publisher.publish(id.toLowerCase());
      return deleted;
    },
  };
  return new Proxy(problems, {
    get(target, property) {
      if (typeof property === "string" && Object.hasOwn(announced, property)) return announced[property as keyof ProblemRepository];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export interface RedisProblemChangePublisher extends ProblemChangePublisher {
  close(): Promise<void>;
}

/**
 * A publisher on a connection of its own, for problem-service's main.ts and the
 * embedded launcher. No offline queue: during an outage a publish fails fast
 * (and is logged) instead of piling up behind the admin's request.
 */
export async function connectProblemChangePublisher(options: { redisUrl: string; prefix: string; logger: Logger }): Promise<RedisProblemChangePublisher> {
  const redis = await connectRedis(options.redisUrl, "problem-changes", options.logger, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  const publisher = createProblemChangePublisher({ redis, prefix: options.prefix, logger: options.logger });
  return { publish: (problemId) => publisher.publish(problemId), close: () => quitRedis(redis) };
}
