// A PostgreSQL server of the test's own, for tests that take the database down and bring it back.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@sonocode/lifecycle";
import pg from "pg";

const run = promisify(execFile);

export interface PrivatePostgres {
  /** Superuser URL of the `postgres` database. */
  url: string;
  port: number;
  /** A URL for a new, empty database on this server. */
  createDatabase(name: string): Promise<string>;
  /** Down hard: every backend killed at once, no checkpoint (pg_ctl stop -m immediate, like a crash). */
  stop(): Promise<void>;
  /** Up again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

function bin(name: string): string {
  const debian = `/usr/lib/postgresql/15/bin/${name}`;
  return existsSync(debian) ? debian : name;
}

/** The server refuses to run as root, so as root every binary runs as the postgres user (as scripts/run-tests.mjs does). */
function asPostgres(name: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", bin(name), ...args]] : [bin(name), args];
}

async function acceptsConnections(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** initdb + postgres on a free port, fsync off (tests only); about two seconds. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), "sonocode-pg-"));
  const dir = join(root, "data");
  if (process.getuid?.() === 0) await run("chown", ["postgres:postgres", root]);
  const [initdb, initArgs] = asPostgres("initdb", ["-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  await run(initdb, initArgs);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const [postgres, args] = asPostgres("postgres", ["-D", dir, "-p", String(port), "-k", root, "-h", "127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"]);
    const started = spawn(postgres, args, { stdio: "ignore" });
    child = started;
    exited = new Promise<void>((resolve) => started.once("exit", () => resolve()));
    const deadline = Date.now() + 30_000;
    while (!(await acceptsConnections(url))) {
      if (started.exitCode !== null) throw new Error(`private postgres exited (${started.exitCode})`);
      if (Date.now() > deadline) throw new Error("private postgres did not start");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const [pgCtl, args] = asPostgres("pg_ctl", ["stop", "-D", dir, "-m", "immediate", "-w"]);
    await run(pgCtl, args).catch(() => child?.kill("SIGKILL"));
    await exited;
  };
  await start();
  return {
    url,
    port,
    async createDatabase(name) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${name.replace(/[^a-z0-9_]/g, "_")}"`);
      } finally {
        await admin.end();
      }
      const target = new URL(url);
      target.pathname = `/${name.replace(/[^a-z0-9_]/g, "_")}`;
      return target.toString();
    },
    stop,
    start,
    async dispose() {
      await stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
