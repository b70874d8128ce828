// PGlite in its own worker thread (src/postgres/pglite-thread.ts), its parameterised statements
// prepared once (pglite-prepared.ts): what crosses the thread boundary must behave as PGlite's
// query() did in the caller's thread: errors keep their SQLSTATE, rows keep their types, a
// prepared statement survives a refused run and a schema change, transactions commit or roll
// back whole, a top-level statement waits for an open transaction, close() lets an open
// transaction finish, and an idle database keeps no process alive.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { openPglite, type SqlClient } from "../src/postgres/sql-client.js";

describe("PGlite in a worker thread", () => {
  let client: SqlClient;
  before(async () => {
    client = await openPglite(null);
    await client.query("CREATE TABLE items (id int PRIMARY KEY, body text, at timestamptz, doc jsonb)");
  });
  after(async () => client.close());

  it("rows keep their types; parameters arrive as sent", async () => {
    const at = new Date("2026-01-02T03:04:05.678Z");
    const inserted = await client.query("INSERT INTO items VALUES ($1, $2, $3, $4::jsonb), (2, 'b', now(), '[]'::jsonb)", [1, "a\nb", at.toISOString(), JSON.stringify({ k: [1, "x"] })]);
    assert.equal(inserted.rowCount, 2);
    const { rows } = await client.query<{ id: number; body: string; at: Date; doc: unknown; ids: number[] }>(
      "SELECT id, body, at, doc, (SELECT array_agg(id ORDER BY id) FROM items WHERE id = ANY($1::int[])) AS ids FROM items WHERE id = 1",
      [[1, 2]],
    );
    assert.deepEqual(rows, [{ id: 1, body: "a\nb", at, doc: { k: [1, "x"] }, ids: [1, 2] }]);
    assert.ok(rows[0]!.at instanceof Date);
  });

  it("a refused statement rejects with PostgreSQL's SQLSTATE and message", async () => {
    await assert.rejects(client.query("INSERT INTO items (id) VALUES (1)"), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal((error as { code?: unknown }).code, "23505");
      assert.match(error.message, /duplicate key/);
      return true;
    });
    await assert.rejects(client.query("SELECT $1::text", ["nul\u0000"]), (error: unknown) => (error as { code?: unknown }).code === "22021");
  });

  it("a statement run again (prepared once) answers for its own parameters, also after a refused run and a schema change", async () => {
    const select = "SELECT * FROM items WHERE id = $1";
    for (const id of [1, 2, 1]) assert.equal((await client.query<{ id: number }>(select, [id])).rows[0]?.id, id);
    await assert.rejects(client.query("INSERT INTO items (id) VALUES ($1)", [1]), (error: unknown) => (error as { code?: unknown }).code === "23505");
    assert.equal((await client.query("INSERT INTO items (id) VALUES ($1)", [3])).rowCount, 1);
    // SELECT * changes its result type: the statement prepared before must not answer with the old one.
    await client.query("ALTER TABLE items ADD COLUMN extra int DEFAULT 7");
    assert.deepEqual(Object.keys((await client.query(select, [3])).rows[0] ?? {}), ["id", "body", "at", "doc", "extra"]);
    assert.equal((await client.query<{ extra: number }>(select, [3])).rows[0]?.extra, 7);
    await client.query("ALTER TABLE items DROP COLUMN extra");
  });

  it("a transaction commits its value, or rolls back whole and rethrows the callback's error", async () => {
    const value = await client.transaction(async (tx) => {
      await tx.query("INSERT INTO items (id, body) VALUES (10, 'kept')");
      return (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM items WHERE id = 10")).rows[0]!.n;
    });
    assert.equal(value, 1);
    const boom = new Error("callback failed");
    await assert.rejects(
      client.transaction(async (tx) => {
        await tx.query("INSERT INTO items (id, body) VALUES (11, 'rolled back')");
        throw boom;
      }),
      (error: unknown) => error === boom,
    );
    const { rows } = await client.query<{ id: number }>("SELECT id FROM items WHERE id IN (10, 11) ORDER BY id");
    assert.deepEqual(rows, [{ id: 10 }]);
  });

  it("a top-level statement issued during a transaction runs after it ends", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertDone = new Promise<void>((resolve) => (inserted = resolve));
    const transaction = client.transaction(async (tx) => {
      await tx.query("INSERT INTO items (id, body) VALUES (20, 'in tx')");
      inserted();
      await held;
    });
    await insertDone;
    let released = false;
    let answeredWhileOpen = false;
    // One connection: what matters is not what it sees but that it waits (PGlite's own mutex).
    const count = client.query<{ n: number }>("SELECT count(*)::int AS n FROM items WHERE id = 20").then((result) => {
      answeredWhileOpen = !released;
      return result;
    });
    // Give the top-level statement every chance to overtake the open transaction.
    await new Promise((resolve) => setTimeout(resolve, 100));
    released = true;
    release();
    await transaction;
    assert.deepEqual((await count).rows, [{ n: 1 }]);
    assert.equal(answeredWhileOpen, false, "the top-level statement was answered while the transaction was open");
  });

  it("close() with a transaction open lets that transaction finish, then closes; new statements are refused", async () => {
    const own = await openPglite(null);
    await own.query("CREATE TABLE t (id int PRIMARY KEY)");
    let entered!: () => void;
    const inTransaction = new Promise<void>((resolve) => (entered = resolve));
    let closeCalled!: () => void;
    const closing = new Promise<void>((resolve) => (closeCalled = resolve));
    const transaction = own.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (1)");
      entered();
      await closing;
      // Sent after close(): PGlite's close waits for this transaction, so its statements and its COMMIT must get through.
      await tx.query("INSERT INTO t VALUES ($1)", [2]);
      return (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM t")).rows[0]!.n;
    });
    await inTransaction;
    const closed = own.close();
    closeCalled();
    await assert.rejects(own.query("SELECT 1"), /PGlite is closed/);
    await assert.rejects(own.transaction(async () => undefined), /PGlite is closed/);
    assert.equal(await transaction, 2);
    await closed;
    await assert.rejects(own.query("SELECT 1"), /PGlite is closed/);
  });

  it("an open, idle database keeps no process alive", async () => {
    const moduleUrl = new URL("../src/postgres/sql-client.ts", import.meta.url).href;
    const code = `const { openPglite } = await import(${JSON.stringify(moduleUrl)}); const db = await openPglite(null); await db.query("SELECT 1"); process.stdout.write("queried");`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exit = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error("the process did not exit with its database open and idle"));
      }, 120_000);
      child.once("exit", (status) => {
        clearTimeout(timer);
        resolve(status);
      });
    });
    assert.equal(out, "queried");
    assert.equal(exit, 0);
  });
});
