import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createStore, storeConfigFromEnv } from "../src/index.js";
import { MIGRATIONS, runMigrations } from "../src/postgres/migrations.js";
import { openPglite } from "../src/postgres/sql-client.js";
import { storeContract } from "./store.contract.js";

/** Every shipped migration, in order: a fresh database gets all of them once. */
const ALL_VERSIONS = MIGRATIONS.map((migration) => migration.version);

const scratch = await mkdtemp(join(tmpdir(), "sonocode-store-"));
after(() => rm(scratch, { recursive: true, force: true }));

storeContract("pglite in memory", {
  persistent: false,
  concurrentOpen: false,
  newDatabase: async () => ({ open: () => createStore({ kind: "pglite", dataDir: null }), drop: async () => {} }),
});

let dirs = 0;
storeContract("pglite on disk", {
  persistent: true,
  concurrentOpen: false,
  newDatabase: async () => {
    // A nested path that does not exist yet: createStore must create it.
    const dataDir = join(scratch, `db-${++dirs}`, "nested", "pglite");
    return { open: () => createStore({ kind: "pglite", dataDir }), drop: () => rm(dataDir, { recursive: true, force: true }) };
  },
});

describe("pglite specifics", () => {
  it("migrations: applied once, then a no-op on the same database", async () => {
    const client = await openPglite(null);
    try {
      assert.deepEqual(await runMigrations(client), ALL_VERSIONS);
      assert.deepEqual(await runMigrations(client), []);
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      assert.deepEqual(rows, ALL_VERSIONS.map((version) => ({ version })));
    } finally {
      await client.close();
    }
  });

  it("a failing migration rolls back entirely", async () => {
    const client = await openPglite(null);
    try {
      await assert.rejects(runMigrations(client, [{ version: 1, name: "bad", sql: "CREATE TABLE t1 (a int);\nCREATE TABLE broken (;" }]));
      const { rows } = await client.query("SELECT to_regclass('t1') AS t, to_regclass('schema_migrations') AS m");
      assert.deepEqual(rows, [{ t: null, m: null }]);
    } finally {
      await client.close();
    }
  });

  it("storeConfigFromEnv picks the adapter and refuses two URLs", () => {
    assert.deepEqual(storeConfigFromEnv({ DATA_DIR: "/var/lib/sono" }), { kind: "pglite", dataDir: "/var/lib/sono/pglite" });
    assert.deepEqual(storeConfigFromEnv({ DATA_DIR: ":memory:" }), { kind: "pglite", dataDir: null });
    assert.deepEqual(storeConfigFromEnv({}), { kind: "pglite", dataDir: ".data/pglite" });
    assert.deepEqual(storeConfigFromEnv({ DATABASE_URL: "postgres://u@h/db", DATA_DIR: "./x" }), { kind: "postgres", url: "postgres://u@h/db" });
    assert.deepEqual(storeConfigFromEnv({ MONGO_URL: "mongodb://h:27017", MONGO_DB: "judge" }), { kind: "mongodb", url: "mongodb://h:27017", dbName: "judge" });
    assert.deepEqual(storeConfigFromEnv({ MONGO_URL: "mongodb+srv://h" }), { kind: "mongodb", url: "mongodb+srv://h", dbName: "sonocode" });
    assert.throws(() => storeConfigFromEnv({ DATABASE_URL: "postgres://h/db", MONGO_URL: "mongodb://h" }), /both DATABASE_URL and MONGO_URL/);
    assert.throws(() => storeConfigFromEnv({ DATABASE_URL: "mysql://h/db" }), /DATABASE_URL must start with postgres/);
    assert.throws(() => storeConfigFromEnv({ MONGO_URL: "http://h" }), /MONGO_URL must start with mongodb/);
  });

  it("creates the data directory and reopens it", async () => {
    const dataDir = join(scratch, "fresh", "a", "b");
    const store = await createStore(storeConfigFromEnv({ DATA_DIR: dataDir }));
    assert.equal(store.kind, "pglite");
    await store.ping();
    await store.close();
    await store.close(); // idempotent
    assert.ok((await stat(join(dataDir, "pglite"))).isDirectory());
  });

  it("refuses to open one data directory twice in a process (that would corrupt it), and allows it after close", async () => {
    const dataDir = join(scratch, "twice");
    const first = await createStore({ kind: "pglite", dataDir });
    try {
      await assert.rejects(createStore({ kind: "pglite", dataDir: join(dataDir, ".") }), /already open in this process/);
      await first.problems.list({ page: 1, limit: 1 });
    } finally {
      await first.close();
    }
    const again = await createStore({ kind: "pglite", dataDir });
    await again.close();
  });
});
