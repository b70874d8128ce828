// The store contract on MongoDB: the server MONGO_URL names, else the wire-compatible stand-in
// (not MongoDB; see mongo-target.ts).
import { storeContract } from "./store.contract.js";
import { mongoDatabase, mongoTarget } from "./mongo-target.js";

storeContract(mongoTarget.name, {
  persistent: true,
  concurrentOpen: true,
  newDatabase: async () => mongoDatabase("test"),
});
