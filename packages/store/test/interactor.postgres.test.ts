import { createTestDatabase } from "@sonocode/testkit";
import { createStore } from "../src/index.js";
import { interactorContract } from "./interactor.contract.js";

interactorContract("postgres server", async () => {
  const database = await createTestDatabase("interactor");
  return { open: () => createStore({ kind: "postgres", url: database.url }), drop: database.drop };
});
