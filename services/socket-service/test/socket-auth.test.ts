// Handshake authentication and the probe routes, against a real server on a real port and real Redis.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { signToken } from "@sonocode/auth";
import { silentLogger } from "@sonocode/logger";
import { listen, startPrivateRedis, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { createSocketService, type SocketService } from "../src/index.js";
import { connect, connectError } from "./helpers.js";

const secret = "socket-auth-test-secret-0123456789abcdef";
let service: SocketService;
let url: string;

before(async () => {
  service = await createSocketService({ redisUrl: testRedisUrl(), prefix: uniqueName("sock-auth"), jwtSecret: secret, logger: silentLogger() });
  url = await listen(service.httpServer);
});

after(async () => {
  await service.close();
});

describe("handshake authentication", () => {
  test("rejects a connection without a token", async () => {
    const error = await connectError(url, {});
    assert.equal(error.message, "unauthorized");
    assert.deepEqual(error.data, { code: "UNAUTHORIZED" });
  });

  test("rejects a malformed token", async () => {
    const error = await connectError(url, { auth: { token: "not-a-jwt" } });
    assert.equal(error.message, "unauthorized");
  });

  test("rejects a token signed with another secret", async () => {
    const token = await signToken({ sub: "u1", role: "user" }, "some-other-secret-0123456789abcdefghijkl");
    const error = await connectError(url, { auth: { token } });
    assert.equal(error.message, "unauthorized");
    assert.deepEqual(error.data, { code: "UNAUTHORIZED" });
  });

  test("rejects an expired token", async () => {
    const token = await signToken({ sub: "u1", role: "user" }, secret, Math.floor(Date.now() / 1000) - 60);
    const error = await connectError(url, { auth: { token } });
    assert.equal(error.message, "unauthorized");
  });

  test("rejects a non-string token and a non-Bearer header", async () => {
    assert.equal((await connectError(url, { auth: { token: 42 } })).message, "unauthorized");
    const token = await signToken({ sub: "u1", role: "user" }, secret);
    assert.equal((await connectError(url, { headers: { authorization: `Basic ${token}` } })).message, "unauthorized");
  });

  test("a connection ends when its token expires", async () => {
    const token = await signToken({ sub: "short-lived", role: "user" }, secret, Math.floor(Date.now() / 1000) + 2);
    const socket = await connect(url, { auth: { token } });
    try {
      const reason = await new Promise<string>((resolve) => socket.once("disconnect", resolve));
      assert.equal(reason, "io server disconnect");
    } finally {
      socket.close();
    }
  });

  test("accepts a valid token in the auth payload and stores the claims", async () => {
    const token = await signToken({ sub: "user-42", role: "user" }, secret);
    const socket = await connect(url, { auth: { token } });
    try {
      const [server] = await service.io.fetchSockets();
      assert.ok(server);
      assert.equal(server.data.claims.sub, "user-42");
      assert.equal(server.data.claims.role, "user");
      assert.ok(server.data.claims.exp && server.data.claims.exp * 1000 > Date.now());
      assert.ok(server.rooms.has("user:user-42"));
    } finally {
      socket.close();
    }
  });

  test("accepts Authorization: Bearer for non-browser clients", async () => {
    const token = await signToken({ sub: "cli-user", role: "admin" }, secret);
    const socket = await connect(url, { headers: { authorization: `Bearer ${token}` } });
    assert.ok(socket.connected);
    socket.close();
  });
});

describe("probe routes", () => {
  test("GET /ping answers with the envelope", async () => {
    const response = await fetch(`${url}/ping`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { success: true, message: "pong", error: {}, data: {} });
  });

  test("GET /health reports Redis up", async () => {
    const response = await fetch(`${url}/health`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { success: boolean; data: { redis: string } };
    assert.equal(body.success, true);
    assert.equal(body.data.redis, "up");
  });

  test("unknown routes are a 404 envelope", async () => {
    const response = await fetch(`${url}/nope`);
    assert.equal(response.status, 404);
    const body = (await response.json()) as { success: boolean; error: { code: string } };
    assert.equal(body.success, false);
    assert.equal(body.error.code, "ROUTE_NOT_FOUND");
  });
});

test("GET /health is 503 when Redis goes away", async () => {
  // A private redis-server we can kill, so the shared test Redis stays up for everyone else.
  const redis = await startPrivateRedis();
  const degraded = await createSocketService({ redisUrl: redis.url, prefix: uniqueName("sock-down"), jwtSecret: secret, logger: silentLogger() });
  try {
    const degradedUrl = await listen(degraded.httpServer);
    assert.equal((await fetch(`${degradedUrl}/health`)).status, 200);
    await redis.kill();
    const started = Date.now();
    const response = await fetch(`${degradedUrl}/health`);
    assert.equal(response.status, 503);
    assert.ok(Date.now() - started < 3_000, "the probe must answer fast when Redis is down");
    const body = (await response.json()) as { success: boolean; error: { code: string }; data: { redis: string } };
    assert.equal(body.success, false);
    assert.equal(body.error.code, "DEPENDENCY_UNAVAILABLE");
    assert.equal(body.data.redis, "down");
    // /ping does not depend on Redis.
    assert.equal((await fetch(`${degradedUrl}/ping`)).status, 200);
  } finally {
    await degraded.close();
    await redis.kill();
  }
});
