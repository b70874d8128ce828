// Rejudges on a PostgreSQL server (migration 7's columns and partial indexes, the paged UPDATE).
import { createTestDatabase } from "@sonocode/testkit";
import { createStore, type Store } from "../src/index.js";
import { rejudgeContract } from "./rejudge.contract.js";

let store: Store | undefined;
let drop: (() => Promise<void>) | undefined;
rejudgeContract("postgres server", {
  open: async () => {
    const database = await createTestDatabase("rejudge");
    drop = database.drop;
    store = await createStore({ kind: "postgres", url: database.url });
    return store;
  },
  close: async () => {
    await store?.close();
    await drop?.();
  },
});
