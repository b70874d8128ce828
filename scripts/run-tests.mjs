// Test orchestrator: throwaway Redis + PostgreSQL on free ports, typecheck, then
// node's test runner (through tsx) over every *.test.ts file. Servers are stopped
// whatever happens. Tests read TEST_REDIS_URL / TEST_DATABASE_URL (and MONGO_URL when set;
// without it the MongoDB suites start their own wire-compatible stand-in, not MongoDB).
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const children = [];
const scratch = mkdtempSync(join(tmpdir(), "sonocode-test-"));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms`);
}

async function startRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"], { stdio: "ignore" });
  children.push(child);
  await waitFor(() => spawnSync("redis-cli", ["-p", String(port), "ping"]).stdout?.toString().trim() === "PONG", "redis");
  return `redis://127.0.0.1:${port}`;
}

function pgBin(name) {
  const debian = `/usr/lib/postgresql/15/bin/${name}`;
  return existsSync(debian) ? debian : name;
}

/** Runs a PostgreSQL binary; as root it runs as the postgres user (the server refuses root). */
function pgCommand(name, args) {
  const binary = pgBin(name);
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", binary, ...args]] : [binary, args];
}

async function startPostgres() {
  const port = await freePort();
  const dir = join(scratch, "pg");
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) {
    chmodSync(scratch, 0o755);
    spawnSync("chown", ["-R", "postgres:postgres", dir]);
  }
  const [initdb, initArgs] = pgCommand("initdb", ["-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
  const init = spawnSync(initdb, initArgs, { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const [postgres, args] = pgCommand("postgres", ["-D", dir, "-p", String(port), "-k", dir, "-h", "127.0.0.1", "-c", "fsync=off", "-c", "max_connections=300"]);
  children.push(spawn(postgres, args, { stdio: "ignore" }));
  await waitFor(() => spawnSync(pgBin("pg_isready"), ["-h", "127.0.0.1", "-p", String(port)]).status === 0, "postgres");
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

function findTests(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) findTests(path, out);
    else if (entry.name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}

function stopAll() {
  for (const child of children) child.kill("SIGTERM");
  try { rmSync(scratch, { recursive: true, force: true }); } catch {}
}
process.on("SIGINT", () => { stopAll(); process.exit(130); });
process.on("SIGTERM", () => { stopAll(); process.exit(143); });

let code = 1;
try {
  // SKIP_TYPECHECK=1: run tests only (for iterating on one package while others are mid-edit).
  if (process.env.SKIP_TYPECHECK === "1") console.log("[test] type-check skipped (SKIP_TYPECHECK=1)");
  else {
    console.log("[test] type-checking");
    const tsc = spawnSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
    if (tsc.status !== 0) throw new Error("type-check failed");
  }

  const [redisUrl, databaseUrl] = await Promise.all([startRedis(), startPostgres()]);
  console.log(`[test] redis ${redisUrl}, postgres ${databaseUrl}${process.env.MONGO_URL ? ", mongodb from MONGO_URL" : ", no MONGO_URL: MongoDB adapter tests on the in-process wire-compatible stand-in (not MongoDB)"}`);

  const selected = process.argv.slice(2);
  const files = selected.length ? selected : ["packages", "services", "apps", "scripts"].flatMap((d) => findTests(join(root, d))).sort();
  const run = spawn(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", "--test-timeout=300000", ...files], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "test", TEST_REDIS_URL: redisUrl, TEST_DATABASE_URL: databaseUrl },
  });
  code = await new Promise((resolve) => run.on("exit", (c) => resolve(c ?? 1)));
} catch (error) {
  console.error(`[test] ${error.message}`);
} finally {
  stopAll();
}
process.exit(code);
