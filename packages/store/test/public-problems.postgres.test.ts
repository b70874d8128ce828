import { createTestDatabase } from "@sonocode/testkit";
import { createPostgresStore } from "../src/postgres/postgres.store.js";
import { openPostgres, type SqlClient } from "../src/postgres/sql-client.js";
import { publicProblemsContract, UNSET_FIRST_HIDDEN_SQL } from "./public-problems.contract.js";

let database: { url: string; drop: () => Promise<void> } | undefined;
let client: SqlClient | undefined;

publicProblemsContract("postgres server", {
  open: async () => {
    database = await createTestDatabase("public_problems");
    return createPostgresStore((client = openPostgres(database.url)));
  },
  drop: async () => database?.drop(),
  unsetFirstHidden: async (id) => {
    await client!.query(UNSET_FIRST_HIDDEN_SQL, [id]);
  },
});
