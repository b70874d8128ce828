// Rejudges on MongoDB: only with MONGO_URL (no server can be installed on the build machines,
// so without it the suite is skipped and says so).
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { createStore, type Store } from "../src/index.js";
import { rejudgeContract } from "./rejudge.contract.js";

const url = process.env.MONGO_URL;

if (!url) {
  describe("store rejudges: mongodb", () => {
    it("skipped", { skip: "MONGO_URL is not set: no MongoDB server to test against" }, () => {});
  });
} else {
  const dbName = `sonocode_rejudge_${randomBytes(6).toString("hex")}`;
  const client = new MongoClient(url);
  let store: Store | undefined;
  rejudgeContract("mongodb", {
    open: async () => {
      await client.connect();
      store = await createStore({ kind: "mongodb", url, dbName });
      return store;
    },
    close: async () => {
      await store?.close();
      await client.db(dbName).dropDatabase();
      await client.close();
    },
  });
}
