// The compose deployment, judged through its public ports only (run by test-compose.sh,
// which builds, starts and tears down the stack and passes the URLs in the environment).
// One program per language plus a wrong answer, a compile error, a memory hog and an
// endless loop go in over HTTP; every final verdict must arrive on a socket connected to
// each socket-service replica (so through the Redis adapter), match GET, and both
// evaluator replicas must have judged something. The web container is then used as a
// browser would: the app, the API and the socket through its one origin, no dev sign-in.
// COMPOSE_E2E_PLAN=tcg is the cgroup v2 VM's plan (scripts/vm/guest-compose.sh): programs run
// 20-100x slower under emulation, so C only (every verdict) with generous limits, no web.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { io, type Socket } from "socket.io-client";
import { signToken } from "@sonocode/auth";
import { LANGUAGES, type Language, type ServerToClientEvents, type ClientToServerEvents } from "@sonocode/contracts";
import { PROGRAMS } from "../../packages/judge/test/solutions.js";

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run this through scripts/compose/test-compose.sh)`);
  return value;
}
const list = (name: string) => env(name).split(",").filter(Boolean);

const SECRET = env("JWT_SECRET");
const PROBLEM_URL = env("PROBLEM_URL");
const SUBMISSION_URL = env("SUBMISSION_URL");
const SOCKET_URLS = list("SOCKET_URLS");
const EVALUATOR_URLS = list("EVALUATOR_URLS");
const TCG = process.env.COMPOSE_E2E_PLAN === "tcg";
const WEB_URL = TCG ? null : env("WEB_URL");
/** Under TCG: startup compiles the judge's helpers and every Node service at 20-100x the cost. */
const SCALE = TCG ? 5 : 1;

interface Envelope {
  success: boolean;
  error: { code?: string };
  data: unknown;
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Envelope }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Envelope };
}

async function waitHealthy(url: string, timeoutMs: number, path = "/health"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    // docker-proxy accepts a published port before the container listens and then holds the
    // connection; undici's socket keeps nothing alive, so a ref'd timer bounds each probe.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error("probe timed out")), 2_000);
    try {
      const response = await fetch(`${url}${path}`, { signal: abort.signal });
      if (response.ok) return;
      last = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = String(error);
    } finally {
      clearTimeout(timer);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url}${path} not healthy after ${timeoutMs} ms (${last})`);
}

function connect(url: string, token: string): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/** A+B with no stubs: each program is a whole stdin/stdout program. */
const AB_PROBLEM = {
  title: "A + B (compose)",
  description: "Print a + b.",
  difficulty: "easy",
  testCases: [
    { input: "1 2\n", output: "3\n" },
    { input: "40 2\n", output: "42\n" },
    { input: "-5 5\n", output: "0\n", hidden: true },
  ],
  codeStubs: [],
  // A C memory hog needs ~5 s of CPU to fault in 256 MiB under TCG (it would be TLE at 2 s).
  ...(TCG ? { timeLimitMs: 15_000 } : {}),
};

interface Case {
  label: string;
  language: Language;
  code: string;
  expected: string;
}

const FULL_CASES: Case[] = [
  ...LANGUAGES.map((language) => ({ label: `${language} ok`, language, code: PROGRAMS[language].ok, expected: "Success" })),
  { label: "PYTHON wrong answer", language: "PYTHON", code: PROGRAMS.PYTHON.wa, expected: "WA" },
  { label: "CPP compile error", language: "CPP", code: PROGRAMS.CPP.ce, expected: "CE" },
  // The sandbox's cgroup limits hold inside the container (its cgroup subtree is the judge's).
  { label: "C memory hog", language: "C", code: PROGRAMS.C.mle, expected: "MLE" },
  { label: "C endless loop", language: "C", code: PROGRAMS.C.tle, expected: "TLE" },
];
const TCG_CASES: Case[] = [
  { label: "C ok", language: "C", code: PROGRAMS.C.ok, expected: "Success" },
  { label: "C wrong answer", language: "C", code: PROGRAMS.C.wa, expected: "WA" },
  { label: "C compile error", language: "C", code: PROGRAMS.C.ce, expected: "CE" },
  { label: "C memory hog", language: "C", code: PROGRAMS.C.mle, expected: "MLE" },
  { label: "C endless loop", language: "C", code: PROGRAMS.C.tle, expected: "TLE" },
];
const CASES = TCG ? TCG_CASES : FULL_CASES;

/** Unfinished submissions the test keeps at once (under submission-service's default per-user cap). */
const MAX_IN_FLIGHT = 4;

const sockets: ClientSocket[] = [];
after(() => {
  for (const socket of sockets) socket.disconnect();
});

before(async () => {
  for (const url of [PROBLEM_URL, SUBMISSION_URL, ...SOCKET_URLS, ...EVALUATOR_URLS]) await waitHealthy(url, 180_000 * SCALE);
  // The web container builds the app on start before it listens.
  if (WEB_URL) await waitHealthy(WEB_URL, 300_000, "/api/web/config");
});

test(`every language is judged in an evaluator container; verdicts reach ${SOCKET_URLS.length} socket replicas`, { timeout: 900_000 * SCALE }, async (t) => {
  const [admin, user] = await Promise.all([signToken({ sub: "compose-admin", role: "admin" }, SECRET), signToken({ sub: "compose-user", role: "user" }, SECRET)]);
  const created = await call(PROBLEM_URL, "POST", "/api/v1/problems", admin, AB_PROBLEM);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const problemId = (created.body.data as { _id: string })._id;

  // One connection per socket-service replica, all as the same user: each must get every result.
  const received = SOCKET_URLS.map(() => new Map<string, string[]>());
  for (const [index, url] of SOCKET_URLS.entries()) {
    const socket = await connect(url, user);
    sockets.push(socket);
    socket.on("submissionPayloadResponse", (payload) => {
      const seen = received[index]!;
      seen.set(payload._id, [...(seen.get(payload._id) ?? []), payload.status]);
    });
  }

  const ids = new Map<string, Case>();
  const deadline = Date.now() + 600_000 * SCALE;
  const pending = () => [...ids.keys()].filter((id) => !received[0]!.has(id)).length;
  for (const item of CASES) {
    // submission-service caps a user's unfinished submissions (5 by default, then 429): keep a
    // window below it. Two evaluators judge two at a time, so the window costs no throughput.
    while (pending() >= MAX_IN_FLIGHT && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const submitted = await call(SUBMISSION_URL, "POST", "/api/v1/submissions", user, { problemId, language: item.language, code: item.code });
    assert.equal(submitted.status, 201, `${item.label}: ${JSON.stringify(submitted.body)}`);
    ids.set((submitted.body.data as { submission: { _id: string } }).submission._id, item);
  }

  const complete = () => received.every((seen) => [...ids.keys()].every((id) => seen.has(id)));
  while (!complete() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  // Late duplicates would show up here too.
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  const problems: string[] = [];
  for (const [id, item] of ids) {
    const fetched = await call(SUBMISSION_URL, "GET", `/api/v1/submissions/${id}`, user);
    const data = fetched.body.data as { status?: string; timeMs?: number; memoryKb?: number } | null;
    const stored = data?.status;
    t.diagnostic(`${item.label.padEnd(20)} ${String(stored).padEnd(8)} ${data?.timeMs ?? "-"} ms ${data?.memoryKb ?? "-"} KiB`);
    if (stored !== item.expected) problems.push(`${item.label}: GET says ${stored}, expected ${item.expected}`);
    for (const [index, seen] of received.entries()) {
      const statuses = seen.get(id) ?? [];
      if (statuses.length !== 1 || statuses[0] !== item.expected) problems.push(`${item.label}: socket replica ${index + 1} got [${statuses.join(", ")}], expected [${item.expected}]`);
    }
  }
  assert.deepEqual(problems, []);

  // Both evaluator replicas took part (each ran at least one job), read from their own metrics.
  for (const url of EVALUATOR_URLS) {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const judged = [...metrics.matchAll(/^sonocode_evaluator_jobs_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    assert.ok(judged > 0, `${url} judged nothing:\n${metrics}`);
  }
});

test("the web container: the app, the API and the socket through one origin; no dev sign-in in production", { timeout: 300_000, skip: WEB_URL === null && "no web container in this plan" }, async () => {
  if (WEB_URL === null) return;
  const page = await fetch(`${WEB_URL}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  assert.match(await page.text(), /<script[^>]+type="module"/, "the built app's entry");
  const config = await call(WEB_URL, "GET", "/api/web/config");
  assert.deepEqual(config.body.data, { devSignIn: false });
  const mint = await fetch(`${WEB_URL}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "mallory", role: "admin" }) });
  assert.equal(mint.status, 404, "no token minting in production");

  const [admin, user] = await Promise.all([signToken({ sub: "web-admin", role: "admin" }, SECRET), signToken({ sub: "web-user", role: "user" }, SECRET)]);
  const created = await call(WEB_URL, "POST", "/api/v1/problems", admin, { ...AB_PROBLEM, title: "A + B (web origin)" });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const problemId = (created.body.data as { _id: string })._id;
  const listed = await call(WEB_URL, "GET", "/api/v1/problems?limit=100", user);
  assert.equal(listed.status, 200);

  // The socket through the web origin (WebSocket upgrade proxied to a socket replica).
  const socket = await connect(WEB_URL, user);
  sockets.push(socket);
  const final = new Promise<{ _id: string; status: string }>((resolve) => socket.on("submissionPayloadResponse", (payload) => resolve(payload)));
  const submitted = await call(WEB_URL, "POST", "/api/v1/submissions", user, { problemId, language: "C", code: PROGRAMS.C.ok });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
  const id = (submitted.body.data as { submission: { _id: string } }).submission._id;
  const payload = await final;
  assert.equal(payload._id, id);
  assert.equal(payload.status, "Success");
});
