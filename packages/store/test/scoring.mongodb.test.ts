// Scores, statistics and percentile counts on MongoDB: only with MONGO_URL (see mongo-target.ts).
import { scoringContract } from "./scoring.contract.js";
import { mongoStoreHarness, withMongo } from "./mongo-target.js";

withMongo("store scoring and statistics: mongodb", (url) => {
  scoringContract("mongodb", mongoStoreHarness(url, "scoring"));
});
