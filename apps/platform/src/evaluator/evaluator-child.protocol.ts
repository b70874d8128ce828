import { z } from "zod";
import { jwtSecretSchema } from "@sonocode/config";

/**
 * What the embedded launcher tells its evaluator child, and what the child answers, over the
 * IPC channel fork() opens. The channel is private to the two processes (the JWT secret travels
 * here, never in argv or the environment), and both sides re-parse what they receive.
 */

const logLevelSchema = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

/** Everything the child needs to build the evaluator-service factory: nothing is read from its environment. */
export const evaluatorChildConfigSchema = z.object({
  host: z.string().min(1),
  /** 0 on the first start picks a free port; restarts reuse the bound one, so the URL stays put. */
  port: z.number().int().min(0).max(65_535),
  redisUrl: z.string().min(1),
  prefix: z.string().min(1),
  /** Signs the service token for problem-service's internal test-set endpoint. */
  jwtSecret: jwtSecretSchema,
  problemServiceUrl: z.url(),
  sandbox: z.object({
    engine: z.enum(["bwrap", "docker", "auto"]),
    rootfs: z.string().min(1).optional(),
    dockerImage: z.string().min(1).optional(),
    /** SANDBOX_NICE: the bwrap sandboxes' CPU priority. */
    nice: z.number().int().min(0).max(19),
  }),
  concurrency: z.number().int().min(1).max(64),
  testSetCache: z.object({ dir: z.string().min(1), maxBytes: z.number().int().positive() }),
  sandboxRetry: z.object({ attempts: z.number().int().min(1), backoffMs: z.number().int().min(0) }).partial().optional(),
  engineHealth: z.object({ failureThreshold: z.number().int().min(1), selfTestIntervalMs: z.number().int().min(100) }).partial().optional(),
  logLevel: logLevelSchema,
  /** How long the child may drain its running jobs when told to stop; past it, it exits and their locks lapse. */
  drainTimeoutMs: z.number().int().positive(),
});
export type EvaluatorChildConfig = z.output<typeof evaluatorChildConfigSchema>;

export const parentMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start"), config: evaluatorChildConfigSchema }),
  /** Stop taking jobs, finish (or hand back by lock lapse) the running ones, exit 0. */
  z.object({ type: z.literal("shutdown") }),
]);
export type ParentMessage = z.input<typeof parentMessageSchema>;

export const childMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("ready"),
    port: z.number().int().min(1).max(65_535),
    /** The engine the judge chose ("auto" while it could not start one). */
    engine: z.string().min(1),
    /** Why the sandbox is not usable yet (the child stays up, out of rotation, and retests). */
    sandboxProblem: z.string().optional(),
  }),
  /** Sent every HEARTBEAT_MS from the child's event loop: silence means it is wedged, not busy (judging is all async). */
  z.object({ type: z.literal("alive") }),
]);

export const HEARTBEAT_MS = 1_000;
export type ChildMessage = z.input<typeof childMessageSchema>;
