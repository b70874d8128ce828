import { createStore } from "../src/index.js";
import { runsContract } from "./runs.contract.js";

runsContract("pglite in memory", async () => ({ open: () => createStore({ kind: "pglite", dataDir: null }), drop: async () => {} }));
