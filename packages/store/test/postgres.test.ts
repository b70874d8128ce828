import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTestDatabase } from "@sonocode/testkit";
import { createStore } from "../src/index.js";
import { MIGRATIONS, runMigrations } from "../src/postgres/migrations.js";
import { openPostgres } from "../src/postgres/sql-client.js";
import { storeContract } from "./store.contract.js";

/** Every shipped migration, in order: a fresh database gets all of them once. */
const ALL_VERSIONS = MIGRATIONS.map((migration) => migration.version);

storeContract("postgres server", {
  persistent: true,
  concurrentOpen: true,
  newDatabase: async () => {
    const database = await createTestDatabase("store");
    return { open: () => createStore({ kind: "postgres", url: database.url }), drop: database.drop };
  },
});

describe("postgres specifics", () => {
  it("concurrent migrations on a new database: one process applies, the others wait and apply nothing", async () => {
    const database = await createTestDatabase("migrate");
    const clients = Array.from({ length: 6 }, () => openPostgres(database.url, { max: 2 }));
    try {
      const results = await Promise.all(clients.map((client) => runMigrations(client)));
      assert.deepEqual(results.flat(), ALL_VERSIONS);
      assert.equal(results.filter((r) => r.length === 0).length, 5);
      const { rows } = await clients[0]!.query<{ version: number }>("SELECT version FROM schema_migrations");
      assert.deepEqual(rows, ALL_VERSIONS.map((version) => ({ version })));
      assert.deepEqual(await runMigrations(clients[0]!), []);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await database.drop();
    }
  });

  it("start-up against an unreachable server fails and leaves no open pool", async () => {
    await assert.rejects(createStore({ kind: "postgres", url: "postgres://postgres@127.0.0.1:1/none" }));
  });
});
