// The problem client against tiny real HTTP servers that misbehave on purpose,
// and the app's answer when problem-service is down.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { verifyServiceToken } from "@sonocode/auth";
import type { JudgingProblem } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { silentLogger } from "@sonocode/logger";
import { createStore } from "@sonocode/store";
import { testRedisUrl, uniqueName } from "@sonocode/testkit";
import { buildSubmissionApp, createProblemClient, createSubmissionQueue } from "../src/index.js";
import { JWT_SECRET, bearer } from "./harness.js";

const PROBLEM: JudgingProblem = {
  _id: "0123456789abcdef01234567",
  codeStubs: [{ language: "PYTHON", startSnippet: "", userSnippet: "", endSnippet: "" }],
  testSet: { hash: "a".repeat(64), count: 1 },
  updatedAt: "2024-01-01T00:00:00.000Z",
};

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler).listen(0, "127.0.0.1");
  servers.push(server);
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AppError && error.code === "DEPENDENCY_UNAVAILABLE" && error.status === 503);
}

describe("createProblemClient", () => {
  test("loads the judging view from the internal endpoint with a cached service token, and re-parses it", async () => {
    const seen: { url: string | undefined; authorization: string | undefined }[] = [];
    const baseUrl = await serve((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      json(res, 200, { success: true, message: "ok", error: {}, data: { ...PROBLEM, extra: "ignored" } });
    });
    const client = createProblemClient({ baseUrl: `${baseUrl}/`, jwtSecret: JWT_SECRET });
    assert.deepEqual(await client.getProblem(PROBLEM._id), PROBLEM);
    await client.getProblem(PROBLEM._id);
    assert.equal(seen[0]?.url, `/internal/v1/problems/${PROBLEM._id}`);
    const token = seen[0]?.authorization?.replace(/^Bearer /, "") ?? "";
    const { exp, iat, ...claims } = await verifyServiceToken(token, JWT_SECRET);
    assert.deepEqual(claims, { sub: "submission-service", role: "service" });
    assert.ok(exp * 1000 > Date.now() && exp - iat <= 60, "a short-lived token");
    assert.equal(seen[1]?.authorization, seen[0]?.authorization, "token reused until near expiry");
  });

  test("404 is null; 5xx, garbage, wrong shapes, refusals and timeouts are DEPENDENCY_UNAVAILABLE", async () => {
    const notFound = await serve((_req, res) => json(res, 404, { success: false, message: "not found", error: { code: "PROBLEM_NOT_FOUND" }, data: {} }));
    assert.equal(await createProblemClient({ baseUrl: notFound, jwtSecret: JWT_SECRET }).getProblem(PROBLEM._id), null);

    const broken = await serve((_req, res) => json(res, 500, { success: false }));
    await expectUnavailable(createProblemClient({ baseUrl: broken, jwtSecret: JWT_SECRET }).getProblem(PROBLEM._id));

    const garbage = await serve((_req, res) => res.writeHead(200).end("<html>"));
    await expectUnavailable(createProblemClient({ baseUrl: garbage, jwtSecret: JWT_SECRET }).getProblem(PROBLEM._id));

    const wrongShape = await serve((_req, res) => json(res, 200, { success: true, data: { ...PROBLEM, testSet: "all" } }));
    await expectUnavailable(createProblemClient({ baseUrl: wrongShape, jwtSecret: JWT_SECRET }).getProblem(PROBLEM._id));

    const hanging = await serve(() => {});
    const started = Date.now();
    await expectUnavailable(createProblemClient({ baseUrl: hanging, jwtSecret: JWT_SECRET, timeoutMs: 300 }).getProblem(PROBLEM._id));
    assert.ok(Date.now() - started < 3_000);

    await expectUnavailable(createProblemClient({ baseUrl: "http://127.0.0.1:1", jwtSecret: JWT_SECRET }).getProblem(PROBLEM._id));
  });

  test("POST answers 503 DEPENDENCY_UNAVAILABLE when problem-service is down, and persists nothing", async () => {
    const store = await createStore({ kind: "pglite", dataDir: null });
    const queue = createSubmissionQueue({ redisUrl: testRedisUrl(), prefix: uniqueName("sub-pc") });
    const app = await buildSubmissionApp({
      store,
      problems: createProblemClient({ baseUrl: "http://127.0.0.1:1", jwtSecret: JWT_SECRET, timeoutMs: 500 }),
      submissionQueue: queue.queue,
      jwtSecret: JWT_SECRET,
      logger: silentLogger(),
    });
    try {
      const response = await app.inject({
        method: "POST",
        url: "/api/v1/submissions",
        headers: await bearer("zed"),
        payload: { problemId: PROBLEM._id, language: "PYTHON", code: "x" },
      });
      assert.equal(response.statusCode, 503);
      const body = response.json();
      assert.equal(body.error.code, "DEPENDENCY_UNAVAILABLE");
      assert.equal(body.error.details.component, "problem-service");
      assert.equal(typeof body.error.details.errorId, "string");
      assert.equal((await store.submissions.listByUser("zed", { page: 1, limit: 10 })).total, 0);
    } finally {
      await app.close();
      await queue.queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await store.close();
    }
  });
});
