// Rejudges on MongoDB (the pipeline updateMany of markPage): only with MONGO_URL (see mongo-target.ts).
import { rejudgeContract } from "./rejudge.contract.js";
import { mongoStoreHarness, withMongo } from "./mongo-target.js";

withMongo("store rejudges: mongodb", (url) => {
  rejudgeContract("mongodb", mongoStoreHarness(url, "rejudge"));
});
