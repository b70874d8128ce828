import { availableParallelism } from "node:os";
import { z } from "zod";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses the environment once with a zod schema and returns typed config.
 * Fails fast with every problem listed, one per line, so a bad deploy is obvious.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined> = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join(".") || "(env)"}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === "" ? undefined : value))
  .pipe(z.url().optional());

/** HS256 secret: at least 32 characters. */
export const jwtSecretSchema = z
  .string({ error: "JWT_SECRET is required (32+ random characters, e.g. `openssl rand -hex 32`); only `npm start` generates one for you" })
  .min(32, "JWT_SECRET must be at least 32 characters");

/** Variables every process shares; each service extends it with its own. */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * HS256 secret every process shares. Required in every mode (there is no public
   * default): only the embedded launcher generates one, kept under DATA_DIR.
   */
  JWT_SECRET: jwtSecretSchema,
  REDIS_URL: optionalUrl,
  /** Namespaces BullMQ keys and the Socket.IO channel, so several platforms can share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default("sonocode"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
});

/** A service running alone (distributed mode) needs an external Redis; only embedded mode starts its own. */
export const distributedRedisEnvSchema = z.object({
  REDIS_URL: z.url({
    error: "required when a service runs alone (e.g. redis://127.0.0.1:6379); npm start runs a local Redis for you",
  }),
});

export const storeEnvSchema = z.object({
  /** postgres://... selects a PostgreSQL server. */
  DATABASE_URL: optionalUrl,
  /** mongodb://... selects MongoDB (setting both URLs is a configuration error). */
  MONGO_URL: optionalUrl,
  MONGO_DB: z.string().default("sonocode"),
  /** PGlite data directory when neither URL is set. */
  DATA_DIR: z.string().default("./.data"),
});

export const portsEnvSchema = z.object({
  HOST: z.string().default("127.0.0.1"),
  PROBLEM_SERVICE_PORT: port(4001),
  SUBMISSION_SERVICE_PORT: port(4002),
  SOCKET_SERVICE_PORT: port(4003),
  EVALUATOR_PORT: port(4004),
});

export { port as portSchema, optionalUrl as optionalUrlSchema };

/** SANDBOX_NICE's default: judged programs yield the CPU to the API on the same host. */
export const DEFAULT_SANDBOX_NICE = 10;

export const sandboxEnvSchema = z.object({
  /** bwrap: namespaces (default on Linux); docker: one hardened container per submission; auto: bwrap, else docker, else refuse. */
  SANDBOX_ENGINE: z.enum(["bwrap", "docker", "auto"]).default("auto"),
  /** Unset: the judge's defaults (/var/lib/sonocode/runtime/rootfs, sonocode-runtime:latest). */
  SANDBOX_ROOTFS: z.string().trim().min(1).optional(),
  SANDBOX_DOCKER_IMAGE: z.string().trim().min(1).optional(),
  /**
   * CPU priority (nice, 0-19) of the bwrap engine's sandboxes: compiles and judged programs yield
   * the CPU to the API and to other work of normal priority; the evaluator process keeps its own.
   * The wall limit does not count the time a program waited for its CPU. 0: no change.
   */
  SANDBOX_NICE: z.coerce.number().int().min(0).max(19).default(DEFAULT_SANDBOX_NICE),
  /**
   * Submissions judged at once by this process. Default: the usable cores (this process's
   * CPU affinity, so a container's or unit's cpuset counts), each session slot pinned to a
   * CPU of its own so parallel judging does not skew measured times; above the core count
   * slots share CPUs round-robin (and timings distort as they would unpinned).
   */
  EVALUATOR_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(() => Math.min(64, Math.max(1, availableParallelism()))),
});

/** Where an evaluator gets the tests that jobs name by hash, and how much of them it keeps on disk. */
export const testSetEnvSchema = z.object({
  /** problem-service, for its internal test-set endpoint (service token). */
  PROBLEM_SERVICE_URL: z.url().default("http://127.0.0.1:4001"),
  /** Local cache of test sets; shared safely by evaluators of one host. Unset: DATA_DIR/test-sets (embedded) or ./.data/test-sets. */
  TEST_SET_CACHE_DIR: z.string().trim().min(1).optional(),
  /** Cap on cached test data; least recently used sets are evicted first. */
  TEST_SET_CACHE_MAX_MB: z.coerce.number().int().min(1).max(1_048_576).default(1_024),
});

/** Evaluator reliability knobs: how a broken sandbox is retried and when an evaluator leaves rotation. */
export const evaluatorEnvSchema = z.object({
  /** Sandbox failures a job may have (on any evaluators) before it is IE; must exceed the threshold below. */
  EVALUATOR_SANDBOX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** Back-off after a job's first sandbox failure; doubles each time, capped at 30 s. */
  EVALUATOR_SANDBOX_BACKOFF_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
  /** Sandbox failures in a row after which this evaluator stops taking jobs until a self-test passes. */
  EVALUATOR_ENGINE_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(100).default(3),
  /** /health caches the sandbox self-test this long; out of rotation, the evaluator retests this often. */
  EVALUATOR_SELF_TEST_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
});
