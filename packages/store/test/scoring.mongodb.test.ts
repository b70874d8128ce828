// Scores, statistics and percentile counts on MongoDB (MONGO_URL, else the stand-in: see mongo-target.ts).
import { scoringContract } from "./scoring.contract.js";
import { mongoStoreHarness, mongoTarget } from "./mongo-target.js";

scoringContract(mongoTarget.name, mongoStoreHarness("scoring"));
