// Shared wiring for this service's tests: real PGlite store, real Redis (TEST_REDIS_URL),
// the real problem-service app on an ephemeral port, and the app under test.
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { signToken } from "@sonocode/auth";
import type { Problem, ProblemInput } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { buildProblemApp, type ProblemChangePublisher } from "@sonocode/problem-service";
import { createStore, type Store } from "@sonocode/store";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import type { FastifyInstance } from "fastify";
import { buildSubmissionApp, createProblemClient, createSubmissionQueue, type SubmissionLimits, type SubmissionQueueHandle } from "../src/index.js";

export const JWT_SECRET = "submission-service-test-secret-0123456789abcdef";

export async function tokenFor(sub: string, role: "user" | "admin" = "user"): Promise<string> {
  return signToken({ sub, role }, JWT_SECRET);
}

export async function bearer(sub: string, role: "user" | "admin" = "user"): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await tokenFor(sub, role)}` };
}

/** The real problem-service, listening on a free port, over the same store. */
export async function startProblemService(store: Store, changes?: ProblemChangePublisher): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server: Server = buildProblemApp({ problems: store.problems, jwtSecret: JWT_SECRET, logger: silentLogger(), ...(changes ? { changes } : {}) }).listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sampleProblem(overrides: Partial<ProblemInput> = {}): ProblemInput {
  return {
    title: "Sum of two",
    description: "Read a and b, print a+b.",
    difficulty: "easy",
    testCases: [
      { input: "1 2\n", output: "3\n", hidden: false },
      { input: "40 2\n", output: "42\n", hidden: true },
    ],
    codeStubs: [
      { language: "PYTHON", startSnippet: "import sys", userSnippet: "def solve(a, b):\n    pass", endSnippet: "print(solve(*map(int, sys.stdin.read().split())))" },
    ],
    ...overrides,
  };
}

export interface Harness {
  app: FastifyInstance;
  store: Store;
  prefix: string;
  redisUrl: string;
  queue: SubmissionQueueHandle;
  problem: Problem;
  /** The real problem-service this harness started. */
  problemServiceUrl: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  maxCodeBytes?: number;
  redisUrl?: string;
  enqueueTimeoutMs?: number;
  store?: Store;
  /** Share one Redis prefix between harnesses (replicas of one deployment). */
  prefix?: string;
  /** Per-user caps; tests that do not test them turn them off. */
  limits?: Partial<SubmissionLimits>;
}

export async function startHarness(label: string, options: HarnessOptions = {}): Promise<Harness> {
  // PGlite takes seconds to boot and migrate: a test file may share one store between harnesses.
  const ownStore = options.store === undefined;
  const store = options.store ?? (await createStore({ kind: "pglite", dataDir: null }));
  const problems = await startProblemService(store);
  const prefix = options.prefix ?? uniqueName(`sub-${label}`);
  const redisUrl = options.redisUrl ?? testRedisUrl();
  const queue = createSubmissionQueue({ redisUrl, prefix });
  const problem = await store.problems.create(sampleProblem());
  const app = await buildSubmissionApp({
    store,
    problems: createProblemClient({ baseUrl: problems.baseUrl, jwtSecret: JWT_SECRET, timeoutMs: 2_000 }),
    submissionQueue: queue.queue,
    jwtSecret: JWT_SECRET,
    logger: silentLogger(),
    ...(options.maxCodeBytes === undefined ? {} : { maxCodeBytes: options.maxCodeBytes }),
    ...(options.enqueueTimeoutMs === undefined ? {} : { enqueueTimeoutMs: options.enqueueTimeoutMs }),
    limits: { perMinute: 0, maxInFlight: 0, ...options.limits },
  });
  return {
    app,
    store,
    prefix,
    redisUrl,
    queue,
    problem,
    problemServiceUrl: problems.baseUrl,
    async close() {
      await app.close();
      // Leave nothing behind in the shared Redis: this file's keys all start with its prefix.
      if (!options.redisUrl) await queue.queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await problems.close();
      if (ownStore) await store.close();
    },
  };
}

/**
 * Records a rejudge of the problem and walks its marking to the end, as the marker would over a
 * few ticks. A feeder running in the test marks too (its ticks run the marker) and may finish
 * the walk first: markNext is then null, which ends the walk as well (looping on `?.done` alone
 * spun forever when that happened: a CI run's 300 s timeout).
 */
export async function recordAndMarkRejudge(store: Store, problemId: string): Promise<string> {
  const { rejudge } = await store.rejudgeRequests.request(problemId, { at: new Date().toISOString(), requestedBy: null });
  for (;;) {
    const step = await store.rejudgeRequests.markNext(rejudge._id, 100, new Date().toISOString());
    if (step === null || step.done) return rejudge._id;
  }
}

/** True when the body has the platform envelope's shape: { success, message, error: {...}, data }. */
export function isEnvelope(body: unknown): boolean {
  if (typeof body !== "object" || body === null) return false;
  const candidate = body as Record<string, unknown>;
  return (
    typeof candidate.success === "boolean" &&
    typeof candidate.message === "string" &&
    typeof candidate.error === "object" &&
    candidate.error !== null &&
    "data" in candidate
  );
}
