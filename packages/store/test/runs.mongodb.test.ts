// The runs repository on MongoDB (MONGO_URL, else the stand-in: see mongo-target.ts).
import { runsContract } from "./runs.contract.js";
import { mongoDatabase, mongoTarget } from "./mongo-target.js";

runsContract(mongoTarget.name, async () => mongoDatabase("runs"));
