import { createStore } from "../src/index.js";
import { interactorContract } from "./interactor.contract.js";

interactorContract("pglite in memory", async () => ({ open: () => createStore({ kind: "pglite", dataDir: null }), drop: async () => {} }));
