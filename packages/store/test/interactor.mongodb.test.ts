// Runs only against a real MongoDB (MONGO_URL); none can be installed on the build machines.
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { MongoClient } from "mongodb";
import { createStore } from "../src/index.js";
import { interactorContract } from "./interactor.contract.js";

const url = process.env.MONGO_URL;

if (!url) {
  describe("interactor in the problem store: mongodb", () => {
    it("skipped", { skip: "MONGO_URL is not set: no MongoDB server to test against" }, () => {});
  });
} else {
  interactorContract("mongodb", async () => {
    const dbName = `sonocode_interactor_${randomBytes(6).toString("hex")}`;
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
  });
}
