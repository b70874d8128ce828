// The verdict corpus against the bwrap engine (needs root, bwrap and the runtime rootfs).
import { createJudge } from "../src/index.js";
import { defineVerdictSuite } from "./verdicts.corpus.js";

defineVerdictSuite({ engine: "bwrap", makeJudge: () => createJudge({ engine: "bwrap", maxConcurrency: 2 }) });
