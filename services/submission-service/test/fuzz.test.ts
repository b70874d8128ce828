// No request of any shape may produce a 500: random and hostile requests at every
// endpoint, asserting status < 500 and the envelope. Seeded, so a failure replays
// with FUZZ_SEED=<seed>.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { signToken } from "@sonocode/auth";
import type { InjectOptions } from "fastify";
import { JWT_SECRET, isEnvelope, startHarness, tokenFor, type Harness } from "./harness.js";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 1_500);

/** mulberry32: small, fast, good enough to pick cases reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const int = (n: number) => Math.floor(random() * n);
function pick<T>(items: readonly T[]): T {
  return items[int(items.length)] as T;
}

const WEIRD_STRINGS = [
  "",
  " ",
  "\u0000",
  "__proto__",
  "constructor",
  "prototype",
  "../../etc/passwd",
  "%00",
  "%zz",
  "' OR 1=1 --",
  "{\"$gt\":\"\"}",
  "\uD800",
  "😀".repeat(50),
  "ＡＢＣ",
  "0123456789abcdef0123456",
  "0123456789abcdef012345678",
  "0123456789ABCDEF01234567",
  "zzzzzzzzzzzzzzzzzzzzzzzz",
  "python",
  "PYTHON",
  " cpp ",
  "Cobol",
  "x".repeat(70_000),
  "9".repeat(400),
  "-1",
  "1e999",
  "NaN",
  "null",
  "true",
];

function randomString(): string {
  if (random() < 0.5) return pick(WEIRD_STRINGS);
  const length = int(40);
  let out = "";
  for (let i = 0; i < length; i += 1) out += String.fromCharCode(int(random() < 0.8 ? 128 : 0xffff));
  return out;
}

function randomValue(depth = 0): unknown {
  const roll = int(depth > 3 ? 6 : 9);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER]);
    case 3:
    case 4:
    case 5:
      return randomString();
    case 6:
      return Array.from({ length: int(5) }, () => randomValue(depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = 0; i < int(5); i += 1) object[randomString().slice(0, 30)] = randomValue(depth + 1);
      return object;
    }
  }
}

function nested(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

let h: Harness;
let authHeaders: (string | undefined)[];

function randomBody(): { payload?: string | Buffer; contentType?: string } {
  const roll = int(12);
  const json = (value: unknown) => ({ payload: JSON.stringify(value), contentType: "application/json" });
  const field = () => (random() < 0.5 ? randomValue() : pick([h.problem._id, "PYTHON", "print(1)"]));
  switch (roll) {
    case 0:
      return json(randomValue());
    case 1:
    case 2:
      // Mostly-valid bodies with one field mutated: gets past the first checks.
      return json({
        problemId: random() < 0.6 ? h.problem._id : field(),
        language: random() < 0.5 ? pick(["python", "CPP", "go", "Rust", "cobol", ""]) : field(),
        code: random() < 0.6 ? "print(1)" : field(),
        ...(random() < 0.3 ? { userId: "mallory", status: "Success" } : {}),
      });
    case 3:
      return { payload: `{"problemId":"${h.problem._id}","language":"python","code":"x","__proto__":{"admin":true}}`, contentType: "application/json" };
    case 4:
      return { payload: `{"constructor":{"prototype":{"polluted":1}},"problemId":"${h.problem._id}","language":"go","code":"x"}`, contentType: "application/json" };
    case 5:
      return { payload: pick(["{", "}", "[1,", "nul", "{'a':1}", "\u0000", "{\"a\":1}}", nested(5_000), ""]), contentType: "application/json" };
    case 6:
      return { payload: Buffer.from(Array.from({ length: int(512) }, () => int(256))), contentType: pick(["application/json", "application/octet-stream", "multipart/form-data; boundary=x"]) };
    case 7:
      return { payload: JSON.stringify({ problemId: h.problem._id, language: "python", code: "y".repeat(pick([10, 70_000, 300_000])) }), contentType: "application/json" };
    case 8:
      return { payload: "code=print(1)", contentType: pick(["text/plain", "application/x-www-form-urlencoded", "text/html", "", "application/json; charset=utf-16", "application/vnd.api+json", "APPLICATION/JSON"]) };
    case 9:
      return { payload: JSON.stringify(randomValue()), contentType: pick(["application/json; charset=utf-8", "application/json;;;", "application/jsonx", "json"]) };
    case 10:
      return {};
    default:
      return json([{ problemId: h.problem._id, language: "python", code: "x" }]);
  }
}

/** encodeURIComponent, except that a lone surrogate becomes raw invalid UTF-8 on the wire. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return "%ED%A0%80";
  }
}

function randomQuery(): string {
  const parts: string[] = [];
  for (let i = 0; i < int(5); i += 1) {
    const key = pick(["page", "limit", "problemId", "problemId[]", "__proto__", "constructor[prototype]", "page[$gt]", randomString().slice(0, 10)]);
    const value = pick([...WEIRD_STRINGS.slice(0, 22), "1", "2", "100", "101", "0", h.problem._id]);
    parts.push(`${encode(key)}=${random() < 0.8 ? encode(value) : value.replace(/[#?&\s]/g, "")}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

function randomId(): string {
  const value = random() < 0.2 ? "0123456789abcdef01234567" : pick(WEIRD_STRINGS).slice(0, 300);
  return random() < 0.8 ? encode(value) : value.replace(/[#?/\s]/g, "");
}

let userHeader = "";

/** A valid user creating a submission with one part mutated: the deep path (problem lookup, store, queue). */
function focusedCreate(): InjectOptions {
  const body = random() < 0.7 ? randomBody() : { payload: JSON.stringify({ problemId: h.problem._id, language: "python", code: "print(1)" }), contentType: "application/json" };
  const headers: Record<string, string> = { authorization: userHeader };
  if (body.contentType !== undefined) headers["content-type"] = body.contentType;
  return { method: "POST", url: pick(["/api/v1/submissions", "/api/v1/submission"]), headers, ...(body.payload === undefined ? {} : { payload: body.payload }) };
}

function randomRequest(): InjectOptions {
  if (random() < 0.25) return focusedCreate();
  const kind = int(9);
  const method = pick(["GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"] as const);
  let url: string;
  switch (kind) {
    case 0:
    case 1:
      url = pick(["/api/v1/submissions", "/api/v1/submission"]);
      break;
    case 2:
    case 3:
      url = `/api/v1/submissions/${randomId()}`;
      break;
    case 4:
      url = `/api/v1/submissions${randomQuery()}`;
      break;
    case 5:
      url = pick(["/ping", "/health", "/openapi.json", "/docs", "/docs/json", "/docs/static/nope.js"]);
      break;
    case 6:
      url = pick(["/", "/api", "/api/v1", "/api/v1/submissions/", "//api/v1/submissions", "/api/v1/submissions/a/b", "/%", "/%zz", "/api/v1/submissions/%E0%A4%A"]);
      break;
    default:
      url = `/${randomId()}${randomQuery()}`;
  }
  const headers: Record<string, string> = {};
  const auth = pick(authHeaders);
  if (auth !== undefined) headers.authorization = auth;
  const options: InjectOptions = { method, url, headers };
  if (method !== "GET" && method !== "HEAD" ? random() < 0.95 : random() < 0.1) {
    const body = randomBody();
    if (body.contentType !== undefined) headers["content-type"] = body.contentType;
    if (body.payload !== undefined) options.payload = body.payload;
  }
  if (random() < 0.05) headers["content-length"] = pick(["-1", "abc", "99999999999", "0"]);
  if (random() < 0.05) headers["x-request-id"] = pick(["../../x", "a".repeat(500), "ok-id", "\u00e9"]);
  return options;
}

before(async () => {
  h = await startHarness("fuzz");
  const noneHeader = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
  const nonePayload = Buffer.from(JSON.stringify({ sub: "root", role: "admin" })).toString("base64url");
  userHeader = `Bearer ${await tokenFor("fuzzer")}`;
  authHeaders = [
    undefined,
    "",
    "Bearer",
    "Bearer ",
    "bearer x.y.z",
    `Bearer ${noneHeader}.${nonePayload}.`,
    `Bearer ${await signToken({ sub: "alice", role: "user" }, "some-other-secret-0123456789abcdef0123")}`,
    `Bearer ${await signToken({ sub: "alice", role: "user" }, JWT_SECRET, Math.floor(Date.now() / 1000) - 10)}`,
    `Basic ${Buffer.from("a:b").toString("base64")}`,
    `Bearer ${"x".repeat(10_000)}`,
    `Bearer ${await tokenFor("fuzzer")}`,
    `Bearer ${await tokenFor("fuzzer")}`,
    `Bearer ${await tokenFor("fuzz-admin", "admin")}`,
  ];
});
after(async () => {
  await h.close();
});

test(`no request produces a 5xx or a body outside the envelope (seed ${SEED}, ${ROUNDS} rounds)`, async (t) => {
  const statuses = new Map<number, number>();
  for (let round = 0; round < ROUNDS; round += 1) {
    const request = randomRequest();
    const response = await h.app.inject(request);
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    const replay = `seed ${SEED} round ${round}: ${request.method} ${String(request.url).slice(0, 200)} -> ${response.statusCode} ${response.body.slice(0, 300)}`;
    assert.ok(response.statusCode < 500, replay);
    const docs = String(request.url).startsWith("/docs") || String(request.url).startsWith("/openapi.json");
    if (request.method === "HEAD" || (docs && response.statusCode < 400) || response.statusCode === 204) continue;
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      assert.fail(`not JSON: ${replay}`);
    }
    assert.ok(isEnvelope(body), `not an envelope: ${replay}`);
    const envelope = body as { success: boolean; error: { code?: string } };
    assert.equal(envelope.success, response.statusCode < 400, replay);
    if (response.statusCode >= 400) assert.equal(typeof envelope.error.code, "string", replay);
  }
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
  // The corpus must reach past the guards, not only bounce off them.
  assert.ok((statuses.get(201) ?? 0) > 0, `some submissions were created: ${JSON.stringify([...statuses])}`);
  assert.ok((statuses.get(400) ?? 0) > 0 && (statuses.get(401) ?? 0) > 0 && (statuses.get(404) ?? 0) > 0);
});
