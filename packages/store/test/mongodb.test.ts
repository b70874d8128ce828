// The store contract on MongoDB: only with MONGO_URL (see mongo-target.ts).
import { storeContract } from "./store.contract.js";
import { mongoDatabase, withMongo } from "./mongo-target.js";

withMongo("store contract: mongodb", (url) => {
  storeContract("mongodb", {
    persistent: true,
    concurrentOpen: true,
    newDatabase: async () => mongoDatabase(url, "test"),
  });
});
