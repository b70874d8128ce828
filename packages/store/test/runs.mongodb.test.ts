// The runs repository on MongoDB: only with MONGO_URL (see mongo-target.ts).
import { runsContract } from "./runs.contract.js";
import { mongoDatabase, withMongo } from "./mongo-target.js";

withMongo("runs repository: mongodb", (url) => {
  runsContract("mongodb", async () => mongoDatabase(url, "runs"));
});
