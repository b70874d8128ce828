// Scores, statistics and percentile counts on a PostgreSQL server (the concurrent finalizers
// really race on separate connections here).
import { createTestDatabase } from "@sonocode/testkit";
import { createPostgresStore } from "../src/postgres/postgres.store.js";
import { openPostgres, type SqlClient } from "../src/postgres/sql-client.js";
import { validated } from "../src/validated.js";
import { scoringContract } from "./scoring.contract.js";

let client: SqlClient | undefined;
let drop: (() => Promise<void>) | undefined;
scoringContract("postgres server", {
  open: async () => {
    const database = await createTestDatabase("scoring");
    drop = database.drop;
    client = openPostgres(database.url);
    return validated(await createPostgresStore(client));
  },
  close: async () => {
    await client?.close();
    await drop?.();
  },
  rejudge: async (id) => {
    await client!.query("UPDATE submissions SET status = 'Pending', results = '[]'::jsonb, score = NULL, group_results = NULL WHERE id = $1", [id]);
  },
});
