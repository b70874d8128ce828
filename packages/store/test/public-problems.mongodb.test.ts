// Public problem reads on MongoDB (MONGO_URL, else the stand-in: see mongo-target.ts).
import { randomBytes } from "node:crypto";
import { MongoClient, ObjectId, type Db } from "mongodb";
import { createMongoStore } from "../src/mongodb/mongo.store.js";
import { mongoTarget } from "./mongo-target.js";
import { publicProblemsContract } from "./public-problems.contract.js";

const dbName = `sonocode_public_problems_${randomBytes(6).toString("hex")}`;

async function withDb<T>(use: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(await mongoTarget.url());
  try {
    await client.connect();
    return await use(client.db(dbName));
  } finally {
    await client.close();
  }
}

publicProblemsContract(mongoTarget.name, {
  open: async () => createMongoStore(await mongoTarget.url(), dbName),
  drop: () => withDb((db) => db.dropDatabase()).then(() => {}),
  unsetFirstHidden: (id) => withDb((db) => db.collection("problems").updateOne({ _id: ObjectId.createFromHexString(id) }, { $unset: { "testCases.0.hidden": "" } })).then(() => {}),
});
