// Throws random and malformed requests at every endpoint. The property under test:
// no request of any shape produces a 5xx, and every answer is the platform envelope.
// The seed is printed on failure; rerun with FUZZ_SEED=<seed> to reproduce.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { signToken } from "@sonocode/auth";
import { anyEnvelope, sampleProblem, startTestServer, TEST_JWT_SECRET, type TestServer } from "./test-server.helper.js";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 1000);

/** mulberry32: tiny, seedable, good enough to pick cases. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const KEYS = [
  "__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "$where", "$gt", "_id",
  "title", "description", "difficulty", "testCases", "codeStubs", "editorial", "timeLimitMs",
  "memoryLimitMb", "checker", "runAllTests", "input", "output", "hidden", "language", "type", "epsilon", "", "🙂",
] as const;

const STRINGS = [
  "", " ", "easy", "EASY", "python", "COBOL", "\u0000", "\ud800", "\udfff", "\ud83d\ude00", "a\u0000b", "\u202e", "null",
  "true", "0", "-1", "1e999", "<script>", "'; DROP TABLE problems; --", "{\"$gt\":\"\"}", "%00", "../../etc/passwd", "\uFEFF",
] as const;

function randomString(rng: Rng): string {
  if (rng.chance(0.5)) return rng.pick(STRINGS);
  if (rng.chance(0.03)) return "x".repeat(100_000 + rng.int(200_000));
  const length = rng.int(40);
  let out = "";
  for (let i = 0; i < length; i += 1) out += String.fromCharCode(rng.chance(0.8) ? 32 + rng.int(95) : rng.int(0x10000));
  return out;
}

function randomNumber(rng: Rng): number {
  return rng.pick([0, -0, 1, -1, 0.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 5e-324, 100, 16, 20_000, 1024]);
}

function randomJson(rng: Rng, depth = 0): unknown {
  const roll = rng.int(depth > 3 ? 4 : 7);
  switch (roll) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return randomNumber(rng);
    case 3: return randomString(rng);
    case 4: return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default: {
      const entries = Array.from({ length: rng.int(5) }, () => [rng.pick(KEYS), randomJson(rng, depth + 1)] as const);
      return Object.fromEntries(entries);
    }
  }
}

/** A valid problem with a few fields broken: the cases most likely to reach deep code. */
function mutatedProblem(rng: Rng): unknown {
  const problem: Record<string, unknown> = { ...sampleProblem() };
  const edits = 1 + rng.int(3);
  for (let i = 0; i < edits; i += 1) {
    const key = rng.pick(KEYS);
    if (rng.chance(0.2)) delete problem[key];
    else if (key === "testCases" && rng.chance(0.5)) problem.testCases = [{ input: randomJson(rng), output: randomString(rng), hidden: randomJson(rng) }];
    else problem[key] = randomJson(rng);
  }
  return problem;
}

/**
 * A problem that passes the schema but carries a hostile string in one text field:
 * this is what reaches the database, so it finds storage failures (NUL, lone surrogates).
 */
function validProblemWithHostileText(rng: Rng): unknown {
  const hostile = rng.chance(0.7) ? rng.pick(STRINGS) || "x" : randomString(rng) || "x";
  const problem = sampleProblem();
  const testCase = problem.testCases[rng.int(problem.testCases.length)]!;
  const stub = problem.codeStubs[0]!;
  rng.pick([
    () => (problem.title = `t${hostile}`),
    () => (problem.description = hostile),
    () => (problem.editorial = hostile),
    () => (testCase.input = hostile),
    () => (testCase.output = hostile),
    () => (stub.userSnippet = hostile),
    () => (stub.startSnippet = hostile),
  ])();
  return problem;
}

/** JSON text with own "__proto__" keys, which JSON.stringify of an object literal cannot produce. */
function pollutingText(rng: Rng): string {
  const inner = JSON.stringify(sampleProblem()).slice(1);
  return rng.pick([
    `{"__proto__":{"polluted":true},${inner}`,
    `{"constructor":{"prototype":{"polluted":true}},${inner}`,
    `{"testCases":[{"__proto__":{"hidden":false},"input":"1","output":"2"}],"__proto__":{"isAdmin":true}}`,
    `{"__proto__":null}`,
    `[{"__proto__":{"polluted":true}}]`,
  ]);
}

function rawBody(rng: Rng): Uint8Array | string {
  switch (rng.int(11)) {
    case 9:
    case 10:
      return JSON.stringify(validProblemWithHostileText(rng));
    case 0: return Uint8Array.from({ length: rng.int(300) }, () => rng.int(256)); // random bytes, mostly invalid UTF-8
    case 1: return Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    case 2: return JSON.stringify(sampleProblem()).slice(0, rng.int(200)); // truncated
    case 3: return "[".repeat(50_000) + "]".repeat(50_000); // deep nesting
    case 4: return `{"title":${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}}`;
    case 5: return `\uFEFF${JSON.stringify(sampleProblem())}`; // BOM
    case 6: return pollutingText(rng);
    case 7: return JSON.stringify(randomJson(rng));
    default: return JSON.stringify(mutatedProblem(rng));
  }
}

const CONTENT_TYPES = [
  undefined, "application/json", "application/json", "application/json; charset=utf-8", "application/json; charset=utf-16",
  "application/json; charset=latin1", "application/json; charset=nope", "application/vnd.api+json", "text/plain", "text/json",
  "application/x-www-form-urlencoded", "multipart/form-data", "a/b/c", ";;;", "application/json; charset=\"", "*/*",
] as const;

const WEIRD_IDS = [
  "", "%", "%zz", "%00", "%E0%A4%A", "..%2F..", "%2e%2e", "__proto__", "constructor", "$where", "%7B%22%24gt%22%3A%22%22%7D",
  "0123456789abcdef0123456", "0123456789abcdef012345678", "0123456789ABCDEF01234567", "0123456789abcdef0123456%C3%A9",
  "x".repeat(5000), "null", "undefined", "-1", "1e3", "%F0%9F%98%80", "a;b", "a,b", " ", "%20%20", "ffffffffffffffffffffffff",
] as const;

const QUERIES = [
  "", "?page=-1&page=2&limit[]=x", "?page=1e999", "?limit=NaN", "?difficulty[]=easy", "?page=%zz", "?&&&==", "?page=0x10",
  "?__proto__=1", "?__proto__[page]=2", "?toString=x&hasOwnProperty=y", "?limit=99999999999999999999", "?page=2&limit=1",
  "?difficulty=hard", "?difficulty=easy&difficulty=easy", "?page= 1", "?page=%00", "?limit=%F0%9F%98%80", `?q=${"a".repeat(6000)}`,
  "?page", "?=", "?difficulty=%E0%A4%A",
] as const;

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND"] as const;

describe("problem-service fuzz: no request produces a 5xx", { timeout: 240_000 }, () => {
  let server: TestServer;
  let tokens: (string | undefined)[];
  const ids: string[] = [];
  const failures: string[] = [];

  before(async () => {
    server = await startTestServer();
    tokens = [
      undefined,
      `Bearer ${server.adminToken}`,
      `Bearer ${server.adminToken}`,
      `Bearer ${server.userToken}`,
      "Bearer garbage",
      "Bearer ",
      `Bearer ${"a".repeat(8000)}`,
      `Bearer ${await signToken({ sub: "x", role: "admin" }, "wrong-secret-wrong-secret-wrong-secret")}`,
      `Bearer ${await signToken({ sub: "x", role: "admin" }, TEST_JWT_SECRET, Math.floor(Date.now() / 1000) - 10)}`,
      "Basic YWRtaW46YWRtaW4=",
      "bearer   " + server.userToken + "   ",
    ];
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(`${server.baseUrl}/api/v1/problems`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify(sampleProblem()),
      });
      ids.push(((await res.json()) as { data: { _id: string } }).data._id);
    }
  });
  after(async () => {
    await server.close();
  });

  async function check(label: string, method: string, response: Response): Promise<void> {
    const text = await response.text();
    const problems: string[] = [];
    if (response.status >= 500) problems.push(`status ${response.status}`);
    // OPTIONS on a known path is 204 with Allow and no body (nothing else is ever 204 here).
    if (response.status === 204) {
      if (method !== "OPTIONS") problems.push("204 for a method other than OPTIONS");
      if (text !== "") problems.push("204 with a body");
      if (!response.headers.get("allow")?.endsWith("OPTIONS")) problems.push("204 without Allow");
    } else if (method !== "HEAD") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        problems.push("body is not JSON");
      }
      const envelope = anyEnvelope.safeParse(parsed);
      // The one documented exception: a successful /openapi.json is the bare document tools expect.
      const isOpenApi = response.status === 200 && (parsed as { openapi?: unknown } | undefined)?.openapi === "3.1.0";
      if (parsed !== undefined && !envelope.success && !isOpenApi) problems.push("not an envelope");
      if (envelope.success && envelope.data.success !== response.status < 400) problems.push("success flag disagrees with status");
    }
    if (problems.length > 0) failures.push(`${label} -> ${response.status} ${problems.join(", ")}: ${text.slice(0, 200)}`);
  }

  it(`survives ${ITERATIONS} random requests (seed ${SEED})`, async () => {
    const rng = prng(SEED);
    const paths = () => {
      const id = rng.chance(0.3) ? rng.pick(ids) : rng.pick(WEIRD_IDS);
      return rng.pick([
        "/api/v1/problems", "/api/v1/problems", `/api/v1/problems/${id}`, `/api/v1/problems/${id}`, `/api/v1/problems/${id}`,
        "/ping", "/health", "/openapi.json", `/api/v1/problems/${id}/extra`, "/api/v1/problems/", "/API/V1/PROBLEMS", "/nope", `/${id}`,
      ]);
    };
    const runOne = async (n: number) => {
      // A third of the requests are otherwise well-formed admin writes, so hostile
      // content gets past auth and parsing and reaches the database.
      const targeted = rng.chance(0.35);
      const method = targeted ? rng.pick(["POST", "PUT", "PATCH"] as const) : rng.pick(METHODS);
      const path = targeted
        ? method === "POST" ? "/api/v1/problems" : `/api/v1/problems/${rng.pick(ids)}`
        : paths() + (rng.chance(0.5) ? rng.pick(QUERIES) : "");
      const headers: Record<string, string> = {};
      const token = targeted ? `Bearer ${server.adminToken}` : rng.pick(tokens);
      if (token !== undefined) headers.authorization = token;
      const contentType = targeted ? "application/json" : rng.pick(CONTENT_TYPES);
      if (contentType !== undefined) headers["content-type"] = contentType;
      let body: Uint8Array | string | undefined;
      if (targeted) {
        const problem = rng.chance(0.7) ? validProblemWithHostileText(rng) : mutatedProblem(rng);
        if (method === "PATCH" && rng.chance(0.7)) {
          // A patch of a few fields of that problem.
          const entries = Object.entries(problem as Record<string, unknown>).filter(() => rng.chance(0.4));
          body = JSON.stringify(Object.fromEntries(entries.length ? entries : [["title", "t"]]));
        } else {
          body = JSON.stringify(problem);
        }
      } else if (method !== "GET" && method !== "HEAD" && rng.chance(0.85)) {
        body = rawBody(rng);
        if (rng.chance(0.05)) {
          headers["content-encoding"] = rng.pick(["gzip", "br", "deflate", "x-unknown", "identity"]);
          if (headers["content-encoding"] === "gzip" && rng.chance(0.5)) body = gzipSync(Buffer.from(body));
        }
      }
      const label = `#${n} ${method} ${path.slice(0, 120)} ct=${contentType ?? "-"} auth=${token?.slice(0, 16) ?? "-"} body=${typeof body === "string" ? body.slice(0, 80) : body ? `<${body.length} bytes>` : "-"}`;
      try {
        const response = await fetch(`${server.baseUrl}${path}`, { method, headers, body: body ?? null });
        await check(label, method, response);
      } catch (error) {
        failures.push(`${label} -> fetch failed: ${(error as Error).message}`);
      }
    };
    // A few requests in flight at once, as a real client population would have.
    const CONCURRENCY = 8;
    for (let n = 0; n < ITERATIONS; n += CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ITERATIONS - n) }, (_, k) => runOne(n + k)));
    }
    assert.equal(failures.length, 0, `FUZZ_SEED=${SEED}\n${failures.slice(0, 20).join("\n")}`);
  });

  it("bodies above the limit (declared or streamed) are 413, not 500", async () => {
    const big = JSON.stringify(sampleProblem({ description: "x".repeat(11 * 1024 * 1024) }));
    const declared = await fetch(`${server.baseUrl}/api/v1/problems`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
      body: big,
    });
    await check("declared 11MB", "POST", declared);
    assert.equal(declared.status, 413);

    const chunk = new TextEncoder().encode("x".repeat(1024 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 12) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await fetch(`${server.baseUrl}/api/v1/problems/${ids[0]}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    await check("chunked 12MB", "PUT", streamed);
    assert.equal(streamed.status, 413);
    assert.equal(failures.length, 0, failures.join("\n"));
  });

  it("raw HTTP that fetch would refuse to send still gets no 5xx", async () => {
    const { port } = new URL(server.baseUrl);
    const raw = (request: Buffer | string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), "127.0.0.1");
        let data = "";
        socket.on("data", (chunk) => (data += chunk.toString("latin1")));
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
        socket.setTimeout(5_000, () => socket.destroy(new Error("timeout")));
        socket.end(request);
      });
    const requests: (Buffer | string)[] = [
      Buffer.concat([Buffer.from("GET /api/v1/problems/"), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]),
      "GET http://evil.example/api/v1/problems HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /api/v1/problems?page=%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      `POST /api/v1/problems HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"title":`,
      `POST /api/v1/problems HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.adminToken}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{"a":\r\nzz\r\n`,
      `PATCH /api/v1/problems/${ids[0]} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      "GET /api/v1/problems HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\x02\r\nConnection: close\r\n\r\n",
    ];
    for (const request of requests) {
      const response = await raw(request);
      const label = JSON.stringify(request.toString().slice(0, 80));
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
      // 0: the connection was closed without a response (Node's parser gave up): not a 5xx either.
      assert.ok(status < 500, `${label} -> ${status}`);
      const [head = "", bodyText = ""] = response.split("\r\n\r\n");
      if (/content-type: application\/json/i.test(head)) {
        assert.ok(anyEnvelope.safeParse(JSON.parse(bodyText)).success, `${label}: not an envelope`);
      }
    }
  });

  it("nothing polluted Object.prototype, and the service still answers", async () => {
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    const ping = await fetch(`${server.baseUrl}/ping`);
    assert.equal(ping.status, 200);
    const one = await fetch(`${server.baseUrl}/api/v1/problems/${ids[1]}`);
    assert.ok([200, 404].includes(one.status));
  });
});
