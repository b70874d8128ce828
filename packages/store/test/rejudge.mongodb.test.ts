// Rejudges on MongoDB, the pipeline updateMany of markPage included (MONGO_URL, else the
// stand-in: see mongo-target.ts).
import { rejudgeContract } from "./rejudge.contract.js";
import { mongoStoreHarness, mongoTarget } from "./mongo-target.js";

rejudgeContract(mongoTarget.name, mongoStoreHarness("rejudge"));
