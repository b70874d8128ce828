// Interactors in the problem store on MongoDB: only with MONGO_URL (see mongo-target.ts).
import { interactorContract } from "./interactor.contract.js";
import { mongoDatabase, withMongo } from "./mongo-target.js";

withMongo("interactor in the problem store: mongodb", (url) => {
  interactorContract("mongodb", async () => mongoDatabase(url, "interactor"));
});
