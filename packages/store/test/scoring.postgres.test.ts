// Scores, statistics and percentile counts on a PostgreSQL server (the concurrent finalizers
// really race on separate connections here).
import { createTestDatabase } from "@sonocode/testkit";
import { createStore, type Store } from "../src/index.js";
import { scoringContract } from "./scoring.contract.js";

let store: Store | undefined;
let drop: (() => Promise<void>) | undefined;
scoringContract("postgres server", {
  open: async () => {
    const database = await createTestDatabase("scoring");
    drop = database.drop;
    store = await createStore({ kind: "postgres", url: database.url });
    return store;
  },
  close: async () => {
    await store?.close();
    await drop?.();
  },
});
