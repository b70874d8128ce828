// Starts the real app on a free port over a real in-memory PGlite store, for tests
// that go through the HTTP boundary with fetch.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import { z } from "zod";
import { signToken } from "@sonocode/auth";
import { envelopeSchema, type ProblemInput } from "@sonocode/contracts";
import type { Logger } from "@sonocode/logger";
import { createStore, type Store } from "@sonocode/store";
import { buildProblemApp, type ProblemAppDeps } from "../src/index.js";

export const TEST_JWT_SECRET = "problem-service-test-secret-0123456789abcdef";

/** Every response body must be the platform envelope; data is checked by each test. */
export const anyEnvelope = envelopeSchema(z.unknown());

export interface TestServer {
  baseUrl: string;
  store: Store;
  adminToken: string;
  userToken: string;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Raw log text, for "never appears in the logs" assertions. */
  rawLogs: () => string;
  close: () => Promise<void>;
}

export interface StartOptions {
  deps?: Partial<Omit<ProblemAppDeps, "problems" | "logger" | "jwtSecret">>;
  /** Reuse a store (the caller then owns closing it); otherwise a fresh in-memory PGlite, closed by close(). */
  store?: Store;
}

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString("utf8"));
      callback();
    },
  });
  return { logger: pino({ level: "debug", base: { service: "problem-service" } }, stream), lines };
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const store = options.store ?? (await createStore({ kind: "pglite", dataDir: null }));
  const { logger, lines } = capturingLogger();
  const app = buildProblemApp({ problems: store.problems, jwtSecret: TEST_JWT_SECRET, logger, ...options.deps });
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(0, "127.0.0.1", (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const { port } = server.address() as AddressInfo;
  const [adminToken, userToken] = await Promise.all([
    signToken({ sub: "admin-1", role: "admin" }, TEST_JWT_SECRET),
    signToken({ sub: "user-1", role: "user" }, TEST_JWT_SECRET),
  ]);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    store,
    adminToken,
    userToken,
    get logs() {
      return lines.flatMap((line) => line.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
    },
    rawLogs: () => lines.join(""),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.store) await store.close().catch(() => undefined);
    },
  };
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  body: z.infer<typeof anyEnvelope>;
}

/** fetch + envelope check: a response that is not the envelope fails the test right here. */
export async function call(
  server: TestServer,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; body?: RequestInit["body"]; headers?: Record<string, string> } = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${server.baseUrl}${path}`, { method, headers, body: body ?? null });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path} -> ${response.status}: body is not JSON: ${text.slice(0, 200)}`);
  }
  const envelope = anyEnvelope.safeParse(parsed);
  if (!envelope.success) throw new Error(`${method} ${path} -> ${response.status}: not an envelope: ${text.slice(0, 300)}`);
  return { status: response.status, headers: response.headers, text, body: envelope.data };
}

let counter = 0;
/** A valid problem with one visible and one hidden test, marked so leaks are easy to grep. */
export function sampleProblem(overrides: Partial<ProblemInput> = {}): ProblemInput {
  counter += 1;
  return {
    title: `Two Sum ${counter}`,
    description: "Add two numbers.",
    difficulty: "easy",
    testCases: [
      { input: "1 2", output: "3", hidden: false },
      { input: `HIDDEN-INPUT-${counter}`, output: `HIDDEN-OUTPUT-${counter}`, hidden: true },
    ],
    codeStubs: [{ language: "PYTHON", startSnippet: "", userSnippet: "def solve():\n    pass\n", endSnippet: "" }],
    editorial: `EDITORIAL-SECRET-${counter}`,
    ...overrides,
  };
}
