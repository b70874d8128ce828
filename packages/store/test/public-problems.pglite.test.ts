import { createPostgresStore } from "../src/postgres/postgres.store.js";
import { openPglite, type SqlClient } from "../src/postgres/sql-client.js";
import { publicProblemsContract, UNSET_FIRST_HIDDEN_SQL } from "./public-problems.contract.js";

let client: SqlClient | undefined;

publicProblemsContract("pglite in memory", {
  open: async () => createPostgresStore((client = await openPglite(null))),
  drop: async () => {},
  unsetFirstHidden: async (id) => {
    await client!.query(UNSET_FIRST_HIDDEN_SQL, [id]);
  },
});
