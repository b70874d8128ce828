// Helpers for tests only: the servers come from scripts/run-tests.mjs (npm test).
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { freePort, listenHttp } from "@sonocode/lifecycle";
import pg from "pg";

export { freePort };
export { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from "./redis-server.js";
export { startPrivatePostgres, type PrivatePostgres } from "./postgres-server.js";
export { createBreakableRootfs, RUNTIME_ROOTFS, type BreakableRootfs } from "./breakable-rootfs.js";

export function requireEnv(name: "TEST_REDIS_URL" | "TEST_DATABASE_URL"): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through 'npm test' (scripts/run-tests.mjs starts the servers)`);
  return value;
}

export function testRedisUrl(): string {
  return requireEnv("TEST_REDIS_URL");
}

/** A unique Redis key prefix / name suffix, so test files never see each other's queues. */
export function uniqueName(label: string): string {
  return `${label}-${randomBytes(4).toString("hex")}`;
}

/** Creates a fresh database on the throwaway PostgreSQL server; drop() removes it. */
export async function createTestDatabase(label = "t"): Promise<{ url: string; drop: () => Promise<void> }> {
  const adminUrl = requireEnv("TEST_DATABASE_URL");
  const name = `${label}_${randomBytes(6).toString("hex")}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Waits until predicate() is truthy, polling; throws with `what` after the timeout. */
export async function eventually<T>(predicate: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Listens on a free loopback port and returns the base URL. */
export async function listen(server: Server): Promise<string> {
  const { port } = await listenHttp(server, 0, "127.0.0.1");
  return `http://127.0.0.1:${port}`;
}
