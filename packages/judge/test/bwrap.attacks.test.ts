// The attack corpus against the bwrap engine (needs root, bwrap and the runtime rootfs).
import { createBwrapEngine, createJudge } from "../src/index.js";
import { defineAttackSuite } from "./attacks.suite.js";

defineAttackSuite({
  engine: "bwrap",
  makeJudge: () => createJudge({ engine: "bwrap", maxConcurrency: 2 }),
  makeEngine: () => createBwrapEngine({}),
});
