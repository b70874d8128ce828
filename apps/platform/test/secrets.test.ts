// No public secret: every service started alone refuses to run without JWT_SECRET (any NODE_ENV,
// unset included); embedded mode keeps a generated secret under DATA_DIR, and the token CLI signs with it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, stat, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { verifyToken } from "@sonocode/auth";
import { resolveJwtSecret, SECRET_FILE_NAME } from "../src/dev-secret.js";

const ROOT = new URL("../../..", import.meta.url).pathname;
const SERVICES = ["problem-service", "submission-service", "socket-service", "evaluator-service"] as const;

/** Runs a TypeScript entry point as a real process; resolves with its exit code and output. */
function run(entry: string, env: Record<string, string | undefined>, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries({ ...process.env, ...env }).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], { cwd: ROOT, env: clean, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

test("each service's main refuses to start without JWT_SECRET (NODE_ENV unset) or with a short one", async () => {
  const base = { NODE_ENV: undefined, REDIS_URL: "redis://127.0.0.1:1", DATA_DIR: ":memory:", PROBLEM_SERVICE_PORT: "0", SUBMISSION_SERVICE_PORT: "0", SOCKET_SERVICE_PORT: "0", EVALUATOR_PORT: "0" };
  await Promise.all(
    SERVICES.map(async (service) => {
      const entry = `services/${service}/src/main.ts`;
      const unset = await run(entry, { ...base, JWT_SECRET: undefined });
      assert.notEqual(unset.code, 0, `${service} started without JWT_SECRET`);
      assert.match(unset.stderr, /JWT_SECRET is required/, service);
      const short = await run(entry, { ...base, JWT_SECRET: "too-short" });
      assert.notEqual(short.code, 0, `${service} started with a short JWT_SECRET`);
      assert.match(short.stderr, /JWT_SECRET must be at least 32 characters/, service);
    }),
  );
});

test("embedded secret: generated once with mode 0600, reused, refused when others can read it", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "sonocode-secret-"));
  const [first, second] = await Promise.all([resolveJwtSecret({ dataDir }), resolveJwtSecret({ dataDir })]);
  assert.equal(first.secret, second.secret, "two starts at once agree on one secret");
  assert.deepEqual([first.source, second.source].sort(), ["file", "generated"]);
  assert.ok(first.secret.length >= 32);
  const path = join(dataDir, SECRET_FILE_NAME);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await readFile(path, "utf8")).trim(), first.secret);
  assert.equal((await resolveJwtSecret({ dataDir })).secret, first.secret, "reused on restart");
  assert.deepEqual(await resolveJwtSecret({ jwtSecret: "x".repeat(40), dataDir }), { secret: "x".repeat(40), source: "env" });
  const memory = await resolveJwtSecret({ dataDir: ":memory:" });
  assert.equal(memory.source, "ephemeral");
  assert.notEqual(memory.secret, (await resolveJwtSecret({ dataDir: ":memory:" })).secret);

  await chmod(path, 0o644);
  await assert.rejects(resolveJwtSecret({ dataDir }), /readable by other users/);
  await writeFile(path, "short\n", { mode: 0o600 });
  await chmod(path, 0o600);
  await assert.rejects(resolveJwtSecret({ dataDir }), /holds no secret/);
});

test("npm run token signs with DATA_DIR/jwt-secret when JWT_SECRET is unset (and creates it for the platform)", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "sonocode-token-"));
  const minted = await run("apps/platform/src/token.cli.ts", { JWT_SECRET: undefined, NODE_ENV: undefined, DATA_DIR: dataDir }, ["--sub", "carol", "--role", "admin"]);
  assert.equal(minted.code, 0, minted.stderr);
  const secret = (await readFile(join(dataDir, SECRET_FILE_NAME), "utf8")).trim();
  const claims = await verifyToken(minted.stdout.trim(), secret);
  assert.equal(claims.sub, "carol");
  assert.equal(claims.role, "admin");
  assert.ok(claims.exp * 1000 > Date.now());
  const refused = await run("apps/platform/src/token.cli.ts", { JWT_SECRET: undefined, DATA_DIR: dataDir }, ["--role", "service"]);
  assert.equal(refused.code, 2, "the CLI never mints service tokens");
});
