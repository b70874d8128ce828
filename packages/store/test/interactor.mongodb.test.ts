// Interactors in the problem store on MongoDB (MONGO_URL, else the stand-in: see mongo-target.ts).
import { interactorContract } from "./interactor.contract.js";
import { mongoDatabase, mongoTarget } from "./mongo-target.js";

interactorContract(mongoTarget.name, async () => mongoDatabase("interactor"));
