import { createTestDatabase } from "@sonocode/testkit";
import { createStore } from "../src/index.js";
import { runsContract } from "./runs.contract.js";

runsContract("postgres server", async () => {
  const database = await createTestDatabase("runs");
  return { open: () => createStore({ kind: "postgres", url: database.url }), drop: database.drop };
});
