// What the fault suite does as a client: HTTP calls with timings, a socket per tab that records
// every final event, programs with known verdicts, and a direct look at the database (the truth).
import { setTimeout as sleep } from "node:timers/promises";
import { io, type Socket } from "socket.io-client";
import pg from "pg";
import { signToken } from "@sonocode/auth";
import { FINAL_STATUSES, type ClientToServerEvents, type ServerToClientEvents } from "@sonocode/contracts";
import { FAULT_JWT_SECRET } from "./cluster.js";

export interface Reply {
  status: number;
  /** The envelope, or null when the connection broke before a response. */
  body: { success: boolean; message: string; error: { code?: string }; data: any } | null;
  ms: number;
  /** Set when no HTTP response came back (connection refused or reset). */
  networkError?: string;
}

export async function call(baseUrl: string, method: string, path: string, options: { token?: string; body?: unknown; timeoutMs?: number } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const started = Date.now();
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    let body: Reply["body"] = null;
    try {
      body = JSON.parse(text) as Reply["body"];
    } catch {
      body = null;
    }
    return { status: response.status, body, ms: Date.now() - started };
  } catch (error) {
    return { status: 0, body: null, ms: Date.now() - started, networkError: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The suite's users are admins: per-user rate limits exempt them, so a 300-submission burst
 * measures the pipeline, not the limiter. Each still gets only its own room's events.
 */
export function adminToken(sub: string): Promise<string> {
  return signToken({ sub, role: "admin" }, FAULT_JWT_SECRET);
}

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** One browser tab: a socket of a user, recording every final event it receives. */
export class SocketTab {
  /** submissionId -> statuses of the final events received, in order. */
  readonly finals = new Map<string, string[]>();
  /** submissionId -> progress events (tests passed, and when it arrived). */
  readonly progress = new Map<string, Array<{ passed: number; at: number }>>();
  /** Submissions that got a progress event after their final event (must never happen). */
  readonly progressAfterFinal = new Set<string>();
  private constructor(readonly socket: ClientSocket) {
    socket.on("submissionPayloadResponse", (payload) => {
      this.finals.set(payload._id, [...(this.finals.get(payload._id) ?? []), payload.status]);
    });
    socket.on("submission:progress", (event) => {
      if (this.finals.has(event.submissionId)) this.progressAfterFinal.add(event.submissionId);
      this.progress.set(event.submissionId, [...(this.progress.get(event.submissionId) ?? []), { passed: event.passed, at: Date.now() }]);
    });
  }

  static async open(url: string, token: string): Promise<SocketTab> {
    const socket: ClientSocket = io(url, { auth: { token }, transports: ["websocket"], forceNew: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
    return new SocketTab(socket);
  }

  async waitFinal(submissionId: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.finals.get(submissionId);
      if (got?.length) return got[0]!;
      if (Date.now() > deadline) throw new Error(`no final event for ${submissionId} within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** Programs for A + B with the verdict each must get. */
export const PROGRAMS = {
  pyOk: { language: "python", code: "a, b = map(int, input().split())\nprint(a + b)\n", expected: "Success" },
  pyWrong: { language: "python", code: "a, b = map(int, input().split())\nprint(a - b)\n", expected: "WA" },
  pyCrash: { language: "python", code: "import sys\nsys.exit(3)\n", expected: "RE" },
  pyLoop: { language: "python", code: "while True:\n    pass\n", expected: "TLE" },
  jsOk: { language: "javascript", code: "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(a + b);\n", expected: "Success" },
  cOk: { language: "c", code: '#include <stdio.h>\nint main(void) { long long a, b; if (scanf("%lld %lld", &a, &b) != 2) return 1; printf("%lld\\n", a + b); return 0; }\n', expected: "Success" },
  cBroken: { language: "c", code: "int main(void) { return missing; }\n", expected: "CE" },
  /** Right, and about 0.5 s per test of sleeping: long enough to be killed mid-judge. */
  pySlow: { language: "python", code: "import time\na, b = map(int, input().split())\ntime.sleep(0.4)\nprint(a + b)\n", expected: "Success" },
  /** Right, about 2 s per test: 0.3 s of CPU then 1.5 s asleep (an honest, long judge). */
  pyLong: {
    language: "python",
    code: "import time\na, b = map(int, input().split())\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\ntime.sleep(1.5)\nprint(a + b)\n",
    expected: "Success",
  },
} as const;
export type ProgramName = keyof typeof PROGRAMS;

const AB_TESTS = [
  { input: "1 2\n", output: "3\n" },
  { input: "5 7\n", output: "12\n" },
  { input: "100 -1\n", output: "99\n", hidden: true },
];

export function abProblem(title: string, options: { timeLimitMs?: number; tests?: number } = {}) {
  const tests = Array.from({ length: options.tests ?? AB_TESTS.length }, (_, i) => {
    const base = AB_TESTS[i % AB_TESTS.length]!;
    return i < AB_TESTS.length ? base : { input: `${i} ${i * 3}\n`, output: `${i * 4}\n`, hidden: i % 2 === 0 };
  });
  return { title, description: "Print a + b.", difficulty: "easy", testCases: tests, codeStubs: [], ...(options.timeLimitMs ? { timeLimitMs: options.timeLimitMs } : {}) };
}

export async function createProblem(problemUrl: string, token: string, problem: ReturnType<typeof abProblem>): Promise<string> {
  const created = await call(problemUrl, "POST", "/api/v1/problems", { token, body: problem });
  if (created.status !== 201) throw new Error(`problem not created: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body!.data._id as string;
}

const FINAL = new Set<string>(FINAL_STATUSES);
export const isFinal = (status: string | undefined): boolean => status !== undefined && FINAL.has(status);

/** Reads submissions straight from PostgreSQL (the truth), retrying while it is down. */
export class Truth {
  private readonly pool: pg.Pool;
  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: 2_000 });
    this.pool.on("error", () => undefined);
  }

  async statuses(ids?: readonly string[]): Promise<Map<string, string>> {
    const { rows } = ids
      ? await this.pool.query<{ id: string; status: string }>("SELECT id, status FROM submissions WHERE id = ANY($1)", [ids])
      : await this.pool.query<{ id: string; status: string }>("SELECT id, status FROM submissions");
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  /** A submission's per-test results as stored (for an assertion's message). */
  async results(id: string): Promise<unknown> {
    const { rows } = await this.pool.query<{ results: unknown }>("SELECT results FROM submissions WHERE id = $1", [id]);
    return rows[0]?.results ?? null;
  }

  /** Every submission of these users (including those whose POST never got an answer). */
  async byUsers(userIds: readonly string[]): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ id: string; status: string }>("SELECT id, status FROM submissions WHERE user_id = ANY($1)", [userIds]);
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  /** Resolves the statuses once every id is final; the time it took is the caller's to measure. */
  async waitAllFinal(ids: readonly string[], timeoutMs: number): Promise<Map<string, string>> {
    const deadline = Date.now() + timeoutMs;
    let last = new Map<string, string>();
    for (;;) {
      try {
        last = await this.statuses(ids);
        if (ids.every((id) => isFinal(last.get(id)))) return last;
      } catch {
        // Database down: keep waiting.
      }
      if (Date.now() > deadline) {
        const stuck = ids.filter((id) => !isFinal(last.get(id))).map((id) => `${id}:${last.get(id) ?? "missing"}`);
        throw new Error(`${stuck.length} of ${ids.length} submissions not final after ${timeoutMs} ms: ${stuck.slice(0, 10).join(", ")}`);
      }
      await sleep(200);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Every submission got its program's verdict: a list of what did not, empty when all are right. */
export function wrongVerdicts(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): string[] {
  return [...expected].filter(([id, want]) => actual.get(id) !== want).map(([id, want]) => `${id}: want ${want}, got ${actual.get(id)}`);
}

/** Each tab got exactly one final event per submission of its user, and no progress after it: a list of what did not. */
export function eventProblems(tabs: ReadonlyArray<{ tab: SocketTab; ids: readonly string[] }>): string[] {
  const problems: string[] = [];
  for (const [n, { tab, ids }] of tabs.entries()) {
    for (const id of ids) {
      const got = tab.finals.get(id) ?? [];
      if (got.length !== 1) problems.push(`tab ${n}: ${got.length} final events for ${id} (${got.join(",")})`);
      if (tab.progressAfterFinal.has(id)) problems.push(`tab ${n}: a progress event for ${id} after its final event`);
    }
  }
  return problems;
}
