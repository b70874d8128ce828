// Runs only against a real MongoDB: no server can be installed on the build
// machines, so without MONGO_URL the suite is skipped (and says so).
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { createStore } from "../src/index.js";
import { storeContract } from "./store.contract.js";

const url = process.env.MONGO_URL;

if (!url) {
  describe("store contract: mongodb", () => {
    it("skipped", { skip: "MONGO_URL is not set: no MongoDB server to test against" }, () => {});
  });
} else {
  storeContract("mongodb", {
    persistent: true,
    concurrentOpen: true,
    newDatabase: async () => {
      const dbName = `sonocode_test_${randomBytes(6).toString("hex")}`;
      return {
        open: () => createStore({ kind: "mongodb", url, dbName }),
        drop: async () => {
          const client = new MongoClient(url);
          try {
            await client.connect();
            await client.db(dbName).dropDatabase();
          } finally {
            await client.close();
          }
        },
      };
    },
  });
}
